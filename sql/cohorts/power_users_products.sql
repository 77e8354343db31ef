-- The products to compute, from growth.users (a product with activity has users; a product
-- without activity in the window yields no rows and is skipped).
SELECT DISTINCT product_id FROM growth.users ORDER BY product_id;
