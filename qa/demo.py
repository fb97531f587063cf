"""Sample questions and answers for the towns of the demonstration network (0 Athens, 1 Thessaloniki,
2 Heraklion): one in Greek and one in English each."""
from __future__ import annotations

from sqlalchemy import select

from auth.models import User
from knet.db import db
from qa import services
from qa.models import Question
from qa.services import QuestionInput

ATHENS = (
    (QuestionInput(
        title="Ποια είναι η προθεσμία ένστασης στην πρόσκληση υποβολής προσφορών;",
        body="Σε απευθείας ανάθεση κάτω των 30.000 ευρώ, μέσα σε πόσες ημέρες μπορεί ένας οικονομικός φορέας "
             "να υποβάλει ένσταση;",
        tags=["Προμήθειες", "Δημόσιες συμβάσεις"], visibility="public"),
     "Στις διαδικασίες κάτω των ορίων η ένσταση ασκείται μέσα σε **5 ημέρες** από την κοινοποίηση της "
     "πράξης (ν. 4412/2016, άρθρο 127). Κρατήστε την ημερομηνία κοινοποίησης στον φάκελο."),
    (QuestionInput(
        title="Which documents go into the file of a direct award?",
        body="A new colleague asks what an auditor expects to find in the file of a direct award below 30,000 euros.",
        tags=["Procurement"], language="en", visibility="network"),
     "The primary request, the decision that commits the credit, the invitation and the offers, the award decision "
     "and the contract, with the supplier's tax and social security clearance certificates. The request, the "
     "decisions and the contract are posted on ΚΗΜΔΗΣ."),
)

THESSALONIKI = (
    (QuestionInput(
        title="Πώς ενημερώνουμε τους κατοίκους για την αποκομιδή ογκωδών αντικειμένων;",
        body="Τα στρώματα και τα έπιπλα μένουν μέρες στα πεζοδρόμια. Πώς το οργανώνουν άλλοι δήμοι;",
        tags=["Καθαριότητα", "Ανακύκλωση"], visibility="network"),
     "Δεχόμαστε αιτήματα παραλαβής στο τηλεφωνικό κέντρο και στην εφαρμογή του δήμου, και δίνουμε ημέρα "
     "παραλαβής μέσα σε μία εβδομάδα. Το πρόγραμμα ανά γειτονιά αναρτάται στον ιστότοπο και στις πολυκατοικίες."),
    (QuestionInput(
        title="How do other towns collect used cooking oil?",
        body="Restaurants ask us where to take their used cooking oil, and households pour it down the sink.",
        tags=["Recycling"], language="en", visibility="public"),
     "We placed collection points at the recycling centres, at schools and at large supermarkets; a licensed "
     "contractor empties them and gives a certificate for each pickup. Restaurants must have their own contract "
     "with a licensed collector."),
)

HERAKLION = (
    (QuestionInput(
        title="Χρειάζεται νέα άδεια όταν ένα κατάστημα εστίασης αλλάζει ιδιοκτήτη;",
        body="Ένα εστιατόριο στο κέντρο πουλήθηκε πριν από την τουριστική περίοδο. Τι υποβάλλει ο νέος ιδιοκτήτης;",
        tags=["Άδειες", "Τουρισμός"], visibility="network"),
     "Με το σύστημα της γνωστοποίησης (ν. 4442/2016) ο νέος φορέας υποβάλλει τη δική του γνωστοποίηση στο "
     "notifybusiness.gov.gr· ο δήμος δεν εκδίδει άδεια, ελέγχει όμως το κατάστημα. Η άδεια τραπεζοκαθισμάτων "
     "εκδίδεται εκ νέου στο όνομά του."),
    (QuestionInput(
        title="How do we publish the municipality's maps as open data?",
        body="We keep our street maps in QGIS. Which format do other towns publish, and under which licence?",
        tags=["GIS", "Open data"], language="en", visibility="public"),
     "We export GeoPackage and GeoJSON from QGIS and publish them under CC BY 4.0 on data.gov.gr; "
     "the WMS service of the national cadastre is a good base layer."),
)

#: Each town's questions with an answer, by its number in the demonstration network.
QUESTIONS = (ATHENS, THESSALONIKI, HERAKLION)


def seed(admin: User, max_body_bytes: int, town: int = 0) -> int:
    """Create the town's sample questions that are missing, each with an answer; return how many were created."""
    created = 0
    for data, reply in QUESTIONS[town]:
        if db.session.scalar(select(Question.id).where(Question.title == data.title)) is None:
            question = services.ask(admin, data)
            services.answer(admin, question, reply)
            created += 1
    return created
