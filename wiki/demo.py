"""Sample bilingual pages for a demonstration node."""
from __future__ import annotations

from auth.models import User
from wiki.models import Page
from wiki.slugs import slugify
from wiki.services import PageInput, create_page

PAGES = (
    PageInput(
        title="Καλώς ήρθατε στο knet",
        language="el",
        visibility="public",
        tags=["οδηγός"],
        body="""Το **knet** είναι ο χώρος όπου οι εργαζόμενοι του δήμου καταγράφουν ό,τι γνωρίζουν,
ώστε οι συνάδελφοι —εδώ και σε άλλους δήμους— να το βρίσκουν όταν το χρειάζονται.

## Από πού να ξεκινήσετε

1. Διαβάστε τον [[Οδηγός σύνταξης σελίδων|οδηγό σύνταξης]].
2. Δείτε ένα παράδειγμα καλής πρακτικής: [[Διαδικασία προμηθειών έως 30.000 ευρώ]].
3. Γράψτε τη δική σας σελίδα από το μενού «Νέα σελίδα».

Η σελίδα [[Ωράριο εξυπηρέτησης πολιτών]] δεν έχει γραφτεί ακόμη· ο σύνδεσμος εμφανίζεται
διαφορετικά και σας οδηγεί στη δημιουργία της.
""",
    ),
    PageInput(
        title="Οδηγός σύνταξης σελίδων",
        language="el",
        visibility="public",
        tags=["οδηγός", "markdown"],
        body="""Οι σελίδες γράφονται σε Markdown.

| Γράφετε | Εμφανίζεται |
|---|---|
| `**έντονα**` | **έντονα** |
| `*πλάγια*` | *πλάγια* |
| `[[Τίτλος σελίδας]]` | σύνδεσμος προς άλλη σελίδα |

Κώδικας σε μπλοκ:

```
ΑΦΜ: 000000000
```

Κάθε αποθήκευση κρατιέται στο ιστορικό, ώστε να συγκρίνετε εκδόσεις και να επαναφέρετε
μια παλαιότερη.[^1]

[^1]: Η επαναφορά δημιουργεί νέα έκδοση· τίποτα δεν χάνεται.
""",
    ),
    PageInput(
        title="Διαδικασία προμηθειών έως 30.000 ευρώ",
        language="el",
        visibility="network",
        tags=["προμήθειες", "οικονομική υπηρεσία"],
        body="""## Βήματα

1. Πρωτογενές αίτημα από την υπηρεσία που έχει την ανάγκη.
2. Έγκριση δέσμευσης πίστωσης από την Οικονομική Υπηρεσία.
3. Πρόσκληση υποβολής προσφορών σε τουλάχιστον δύο οικονομικούς φορείς.
4. Απόφαση απευθείας ανάθεσης και ανάρτηση στο ΚΗΜΔΗΣ.

Δείτε και την αγγλική περίληψη: [[Procurement below 30,000 euros]].
""",
    ),
    PageInput(
        title="Procurement below 30,000 euros",
        language="en",
        visibility="public",
        tags=["procurement"],
        body="""A short English summary of the Greek page [[Διαδικασία προμηθειών έως 30.000 ευρώ]]
for colleagues from partner municipalities abroad.

- Direct award is allowed below the threshold.
- At least two offers are requested.
- Every decision is published in the central registry.
""",
    ),
)


def seed(admin: User, max_body_bytes: int) -> int:
    """Create the sample pages that are missing; return how many were created."""
    created = 0
    for data in PAGES:
        if Page.by_slug(slugify(data.title)) is None:
            create_page(admin, data, max_body_bytes)
            created += 1
    return created
