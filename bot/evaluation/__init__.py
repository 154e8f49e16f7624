"""Quality evaluation: ``kb eval qa`` (answers) and ``kb eval beir`` (retrieval)."""
