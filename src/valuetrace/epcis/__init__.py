"""EPCIS 2.0 events: validation, the CBV 2.0 event hash, a repository with query and trace."""
