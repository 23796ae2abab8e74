"""Full-text search across every dossier: an indexer fed by the domain's outbox, a query
language, and interchangeable engines (embedded tantivy, Elasticsearch) behind one contract."""
