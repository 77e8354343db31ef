"""Growth analytics over the activity table: lifecycle and growth accounting, retention
triangles, LTV by cohort, the power-user histogram and feature adoption."""
