"""The publisher side: the offer catalog, tracking links, promo codes, QR codes, creatives'
embed code and click statistics."""
