SELECT fingerprint FROM ops.demo_world
