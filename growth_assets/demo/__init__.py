"""The demo world: a deterministic simulated SaaS business serving Stripe, Mixpanel and
Zendesk records in the real APIs' shapes, so the warehouse runs without credentials."""

from growth_assets.demo.world import DemoConfig, DemoWorld

__all__ = ["DemoConfig", "DemoWorld"]
