"""Tests of the project wiring: edms run (launcher, supervisor, private broker), the command
line and its checks, the admin site."""
