"""The ``growth-assets`` command: migrate, status, demo, dev."""
