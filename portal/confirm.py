"""Asking before a destructive button acts, for every area: with JavaScript portal.js asks the
form's data-confirm question in a dialog and sends confirmed=1; without it the server asks here,
on a page of its own, with 確定 (the same form again, confirmed) and 取消 (back where it came from)."""

from __future__ import annotations

from flask import Response, make_response, render_template, request

from portal.fragments import wants_fragment


def unconfirmed(question: str, back: str) -> Response | None:
    """None once the form says it was confirmed; else the answer that asks `question` first, with
    every field as sent (a note typed goes along). `back` is where 取消 leads.

    An htmx request comes confirmed from portal.js; one that is not (a form without data-confirm)
    gets the question in #messages, not a whole page nested in its target."""
    if request.form.get("confirmed") == "1":
        return None
    fields = [(name, value) for name, value in request.form.items(multi=True) if name != "confirmed"]
    asked = {"question": question, "action": request.path, "fields": fields, "back": back}
    if wants_fragment():
        response = make_response(render_template("_confirm.html", **asked))
        response.headers.update(
            {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML", "HX-Push-Url": "false"}
        )
        return response
    return make_response(render_template("confirm.html", **asked))
