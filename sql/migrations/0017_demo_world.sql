-- The generated world a demo warehouse was built from (growth-assets demo): one row. A demo run
-- against a warehouse built from another world (seed, scale, generator version) rebuilds it from
-- nothing instead of mixing the two worlds' rows; a warehouse holding events but no row here was
-- not built by the demo, and the demo refuses to touch it.
CREATE TABLE ops.demo_world (
    singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    fingerprint jsonb       NOT NULL,
    built_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ops.demo_world IS 'The demo world (config, stream sizes, generator version) this warehouse was built from.';
