"""Everything that talks to the outside world: files, SQS, SQLite and Elasticsearch."""
