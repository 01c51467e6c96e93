"""The ceiling pages are measured against: a bare Flask app answering one short page.

    gunicorn -w 2 -b 127.0.0.1:PORT benchmarks.hello:app
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, world"
