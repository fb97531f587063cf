"""Sample bilingual pages for the towns of the demonstration network (0 Athens, 1 Thessaloniki, 2 Heraklion)."""
from __future__ import annotations

from auth.models import User
from wiki.models import Page
from wiki.slugs import slugify
from wiki.services import PageInput, create_page

#: Athens: the welcome page, the guide and procurement, which link to each other.
ATHENS = (
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
    PageInput(
        title="Εσωτερικές προθεσμίες του τμήματος προμηθειών",
        language="el",
        visibility="internal",
        tags=["προμήθειες"],
        body="""Οδηγία του τμήματος, μόνο για τους συναδέλφους του δήμου.

- Τα πρωτογενή αιτήματα του επόμενου τριμήνου κατατίθενται έως τις 10 του τελευταίου μήνα.
- Οι προσφορές ανοίγονται κάθε Τρίτη στις 11:00 στο γραφείο 204.
- Για επείγουσες ανάγκες ενημερώστε τον προϊστάμενο πριν από το αίτημα.
""",
    ),
)

#: Thessaloniki: recycling.
THESSALONIKI = (
    PageInput(
        title="Πρόγραμμα καφέ κάδων για τα βιοαπόβλητα",
        language="el",
        visibility="network",
        tags=["ανακύκλωση", "καθαριότητα"],
        body="""Ο δήμος συλλέγει χωριστά τα υπολείμματα τροφών και κήπου στους **καφέ κάδους**,
ώστε να γίνονται λίπασμα αντί να καταλήγουν στον ΧΥΤΑ.

## Τι μπαίνει στον καφέ κάδο

- υπολείμματα φρούτων και λαχανικών, τσόφλια αυγών, κατακάθι καφέ
- χαρτοπετσέτες και χαρτί κουζίνας
- φύλλα, γρασίδι και μικρά κλαδέματα

Δεν μπαίνουν πλαστικές σακούλες, υγρά, λάδια, γυαλί και μέταλλο.

## Πώς το οργανώσαμε

1. Ξεκινήσαμε από τις γειτονιές με τα περισσότερα εστιατόρια και τις λαϊκές αγορές.
2. Μοιράσαμε δωρεάν κάδους κουζίνας στα νοικοκυριά.
3. Η αποκομιδή γίνεται τρεις φορές την εβδομάδα με ξεχωριστό όχημα.

Για τα καταστήματα δείτε [[Door-to-door recycling for shops]].
""",
    ),
    PageInput(
        title="Door-to-door recycling for shops",
        language="en",
        visibility="public",
        tags=["recycling"],
        body="""Shops in the city centre put out flattened cardboard and paper on fixed evenings, and a
small truck of the cleaning department collects it door to door.

- Cardboard goes out tied, after 21:00 on Mondays and Thursdays.
- Glass from cafés and bars goes to the blue bell-shaped bins, not with the cardboard.
- A shop registers once with the cleaning department and gets a sticker for its door.

The organic waste programme is described in Greek: [[Πρόγραμμα καφέ κάδων για τα βιοαπόβλητα]].
""",
    ),
    PageInput(
        title="Βάρδιες συνεργείων καθαριότητας",
        language="el",
        visibility="internal",
        tags=["καθαριότητα"],
        body="""- Πρωινή βάρδια 06:00–13:00, απογευματινή 14:00–21:00, νυχτερινή 22:00–05:00.
- Αλλαγές βάρδιας δηλώνονται στον επόπτη έως την Πέμπτη της προηγούμενης εβδομάδας.
- Τα οχήματα ανεφοδιάζονται στο αμαξοστάσιο πριν από το τέλος κάθε βάρδιας.
""",
    ),
)

#: Heraklion: permits in the tourist season.
HERAKLION = (
    PageInput(
        title="Άδεια τραπεζοκαθισμάτων σε κοινόχρηστο χώρο",
        language="el",
        visibility="network",
        tags=["άδειες", "τουρισμός"],
        body="""Τα καταστήματα εστίασης που βάζουν τραπέζια και καθίσματα σε πεζοδρόμιο ή πλατεία
χρειάζονται **άδεια χρήσης κοινόχρηστου χώρου**, καλύτερα πριν ξεκινήσει η τουριστική περίοδος.

## Δικαιολογητικά

- αίτηση με τα τετραγωνικά μέτρα που ζητά το κατάστημα
- σκαρίφημα του χώρου με τις αποστάσεις από την οδό και τις εισόδους
- βεβαίωση ότι το κατάστημα δεν οφείλει στον δήμο

## Βήματα

1. Η αίτηση κατατίθεται στο δημοτικό κατάστημα ή ηλεκτρονικά.
2. Η τεχνική υπηρεσία ελέγχει ότι μένει ελεύθερος διάδρομος για τους πεζούς.
3. Μετά την έγκριση, το κατάστημα πληρώνει το τέλος και παίρνει την άδεια.

Για εκδηλώσεις δείτε [[Permits for events in the tourist season]].
""",
    ),
    PageInput(
        title="Permits for events in the tourist season",
        language="en",
        visibility="public",
        tags=["permits", "tourism"],
        body="""Concerts, markets and festivals in squares and on the seafront between May and October need
the municipality's permit for the use of the public space.

1. Apply at least 30 days before the event, with a plan of the area, the hours and the expected crowd.
2. The permit names who cleans up afterwards; amplified music stops at 23:00 in residential streets.
3. Large events also need the fire service's approval: ask us early and we arrange one meeting for both.

Tables and chairs outside shops need another permit: [[Άδεια τραπεζοκαθισμάτων σε κοινόχρηστο χώρο]].
""",
    ),
    PageInput(
        title="Πρόγραμμα ελέγχων καταστημάτων Ιουλίου",
        language="el",
        visibility="internal",
        tags=["έλεγχοι"],
        body="""Οι έλεγχοι είναι αιφνιδιαστικοί, γι' αυτό η σελίδα μένει μέσα στον δήμο.

| Εβδομάδα | Περιοχή | Κλιμάκιο |
|---|---|---|
| 1η | Παλιό λιμάνι | Α |
| 2η | Κέντρο, πεζόδρομοι | Β |
| 3η | Παραλία Αμμουδάρας | Α |
""",
    ),
)

#: Each town's pages, by its number in the demonstration network.
PAGES = (ATHENS, THESSALONIKI, HERAKLION)


def seed(admin: User, max_body_bytes: int, town: int = 0) -> int:
    """Create the town's sample pages that are missing; return how many were created."""
    created = 0
    for data in PAGES[town]:
        if Page.by_slug(slugify(data.title)) is None:
            create_page(admin, data, max_body_bytes)
            created += 1
    return created
