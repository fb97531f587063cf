"""A sample course for the demonstration network's first town (Athens): two lessons and a quiz, published."""
from __future__ import annotations

from sqlalchemy import select

from auth.models import User
from knet.db import db
from learning import courses, structure, versions
from learning.courses import CourseInput
from learning.models import Course
from learning.structure import OptionInput, QuestionInput

TITLE = "Απευθείας ανάθεση: τα βασικά"
LESSONS = (
    ("Πότε επιτρέπεται", "Η **απευθείας ανάθεση** επιτρέπεται για συμβάσεις κάτω των **30.000 €** χωρίς ΦΠΑ "
                         "(ν. 4412/2016, άρθρο 118).\n\n- Ελέγξτε ότι η δαπάνη δεν κατατμήθηκε.\n"
                         "- Ζητήστε τουλάχιστον μία προσφορά γραπτώς."),
    ("Τα βήματα", "1. Πρωτογενές αίτημα στο ΚΗΜΔΗΣ.\n2. Απόφαση ανάληψης υποχρέωσης.\n3. Πρόσκληση και προσφορά.\n"
                  "4. Απόφαση ανάθεσης και σύμβαση, αναρτημένες στο ΚΗΜΔΗΣ."),
)


def seed(admin: User, max_body_bytes: int, town: int = 0) -> int:
    """Create the sample course in town 0 if it is missing; return how many courses were created."""
    if town != 0 or db.session.scalar(select(Course.id).where(Course.title == TITLE)) is not None:
        return 0
    course = courses.create_course(admin, CourseInput(
        title=TITLE, summary="Όσα χρειάζεται να ξέρει ένας υπάλληλος πριν από την πρώτη του απευθείας ανάθεση.",
        description="Ένα σύντομο μάθημα για νέους συναδέλφους των τμημάτων προμηθειών.", visibility="public",
        tags=["Προμήθειες", "Δημόσιες συμβάσεις"], estimated_minutes=45))
    module = structure.add_module(admin, course, "Η διαδικασία")
    for title, body in LESSONS:
        structure.add_lesson(admin, module, title, body)
    quiz = structure.add_quiz(admin, module, "Τεστ γνώσεων", "Δύο ερωτήσεις για να ελέγξετε τι κρατήσατε.",
                              pass_percent=50)
    structure.add_question(admin, quiz, QuestionInput(
        kind="single", prompt="Ποιο είναι το όριο της απευθείας ανάθεσης χωρίς ΦΠΑ;",
        options=[OptionInput("30.000 €", True, "Σωστά: άρθρο 118."), OptionInput("60.000 €", False)]))
    structure.add_question(admin, quiz, QuestionInput(
        kind="truefalse", prompt="Η απόφαση ανάθεσης αναρτάται στο ΚΗΜΔΗΣ.", true_is_correct=True))
    versions.publish(admin, course, "Πρώτη έκδοση")
    return 1
