SELECT EXISTS (SELECT 1 FROM growth.events) OR EXISTS (SELECT 1 FROM raw.mixpanel_events) AS holds
