"""Sample questions and answers for a demonstration node."""
from __future__ import annotations

from sqlalchemy import select

from auth.models import User
from knet.db import db
from qa import services
from qa.models import Question
from qa.services import QuestionInput

QUESTIONS = (
    (QuestionInput(
        title="Ποια είναι η προθεσμία ένστασης στην πρόσκληση υποβολής προσφορών;",
        body="Σε απευθείας ανάθεση κάτω των 30.000 ευρώ, μέσα σε πόσες ημέρες μπορεί ένας οικονομικός φορέας "
             "να υποβάλει ένσταση;",
        tags=["Προμήθειες", "Δημόσιες συμβάσεις"], visibility="public"),
     "Στις διαδικασίες κάτω των ορίων η ένσταση ασκείται μέσα σε **5 ημέρες** από την κοινοποίηση της "
     "πράξης (ν. 4412/2016, άρθρο 127). Κρατήστε την ημερομηνία κοινοποίησης στον φάκελο."),
    (QuestionInput(
        title="How do we publish the municipality's maps as open data?",
        body="We keep our street maps in QGIS. Which format do other towns publish, and under which licence?",
        tags=["GIS", "Open data"], language="en", visibility="public"),
     "We export GeoPackage and GeoJSON from QGIS and publish them under CC BY 4.0 on data.gov.gr; "
     "the WMS service of the national cadastre is a good base layer."),
)


def seed(admin: User, max_body_bytes: int) -> int:
    """Create the sample questions that are missing, each with an answer; return how many were created."""
    created = 0
    for data, reply in QUESTIONS:
        if db.session.scalar(select(Question.id).where(Question.title == data.title)) is None:
            question = services.ask(admin, data)
            services.answer(admin, question, reply)
            created += 1
    return created
