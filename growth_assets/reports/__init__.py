"""Reports: weekly and monthly board reports (self-contained HTML), CSV/Parquet exports."""
