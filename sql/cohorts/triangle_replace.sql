-- Empty growth.retention_triangle before the rebuilt triangle is copied in, in the same
-- transaction (growth_assets/cohorts/triangle.py). TRUNCATE, not DELETE: the rows then go
-- into an empty table and index in key order, and no dead rows are left to vacuum. Its
-- ACCESS EXCLUSIVE lock is taken only now, after the triangle was computed, and holds until
-- commit: readers wait for the copy (about a second at the design scale) and then see the
-- new triangle; a failed run rolls the truncation back.
TRUNCATE growth.retention_triangle
