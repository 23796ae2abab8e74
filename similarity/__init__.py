"""Finding what is alike: similar documents across dossiers, near-duplicates at intake, and
similar figurative marks and designs, all computed on this machine with no network at run time
(see README, "Similar documents, near-duplicates and similar marks")."""
