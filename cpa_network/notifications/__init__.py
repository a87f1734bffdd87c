"""In-app notifications: what the network tells a user (new referral, paused offer, ...)."""
