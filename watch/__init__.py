"""Saved searches and watched dossiers: a user is told when a new document matches a search
they saved, or a dossier they watch changes (see README, "Saved searches and watched dossiers")."""
