"""Retention and disposition: how long the papers of a file wrapper are kept, counted from a
legal-status event of the case, and a queue where a records manager approves their disposal
(`rules`, `scan`, `disposition`). Nothing is destroyed without that approval; a legal hold
(`dossier.actions.place_legal_hold`) keeps a document out of the queue and out of reach."""
