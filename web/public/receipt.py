"""The receipt's print view (issue 16): the case number, the query code, the type, the date and
how to track the case, on a page made for paper or a saved PDF or image. Like the receipt's own
GET address it shows the code only to the browser that filed, within the receipt's minutes (the
query code is kept encrypted for that long, then never again); anyone else, or later, is sent to
the receipt's address, which shows the number only."""
from __future__ import annotations

from flask import redirect, render_template, url_for

from casework.cases.models import Case
from web.presenters import local_time, step_and_date
from web.public.blueprint import bp
from web.public.intake import receipt_here
from web.requestdb import db_session
from web.urls import external_url


@bp.get("/file/<slug>/receipt/<number>/print")
def file_receipt_print(slug: str, number: str):
    number, receipt = receipt_here(slug, number)
    if receipt is None:
        return redirect(url_for("public.file_receipt", slug=slug, number=number), code=303)
    case = db_session().get(Case, receipt.case_id)
    return render_template(
        "public/receipt_print.html", receipt=receipt, case_type=case.type, filed_at=local_time(case.submitted_at),
        track_url=external_url("public.track_form"), step=step_and_date(case),
    )
