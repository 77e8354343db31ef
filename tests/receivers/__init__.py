"""Local HTTP receivers that answer like the real source APIs, with scripted faults."""
