"""Tests of search: the engine contract, the query language, the index following the database,
access in the index, the search API."""
