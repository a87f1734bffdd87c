"""The advertiser side and the tracking engine: offers, goals, caps, targeting, creatives,
moderation, tracking links, the click path (/c/<token>), click storage and hourly rollups."""
