"""Stripe webhooks (placeholder)."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)
