"""The analyst's desk: the web application `rjwatch serve` starts (see rjwatch.desk.app)."""
