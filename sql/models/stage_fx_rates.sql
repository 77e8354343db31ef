CREATE TEMP TABLE fx_batch (
    day      date    NOT NULL,
    currency char(3) NOT NULL,
    rate     numeric NOT NULL
) ON COMMIT DROP;
