"""The benchmark's baseline: a bare Flask app that answers every /c/<token> with a 302."""

from flask import Flask, redirect

app = Flask(__name__)


@app.route("/c/<token>")
def click(token: str):
    return redirect("https://shop.example.com/land?cid=x&s1=y", code=302)
