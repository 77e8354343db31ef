"""SaaS analytics: MRR and its movements, funnels, the north-star metric, the customer 360."""
