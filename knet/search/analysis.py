"""How text becomes search terms: the one place that holds knet's linguistic rules.

One chain serves documents and queries in Greek and English alike:
tokenise (Unicode words; ``_`` separates) → fold (lowercase, strip accents and dialytika, final ς → σ)
→ drop Greek and English stop words → stem: Greek-script tokens through the Greek lemma table
(:mod:`knet.search.lemmas`) or else Snowball Greek, Latin-script tokens through Snowball English,
anything else untouched.

Accents are stripped *before* stemming. The Snowball Greek stemmer lowercases and strips tonos itself,
but its own table maps ϊ and ΐ to η (so «καΐκι» would stem to «καηκ» and «καικι» to «καικ»); fed
folded text it only ever sees the plain lowercase letters it works in, and the index and the query
side agree whatever the typist did with accents.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache
from importlib.metadata import version

import Stemmer
from whoosh.analysis import Filter, RegexTokenizer, StopFilter, StripFilter, Token, Tokenizer

from knet.search.lemmas import lemma_stems

logger = logging.getLogger(__name__)

__all__ = ["ANALYSIS_VERSION", "term_of", "GREEK_STOP_WORDS", "ENGLISH_STOP_WORDS", "STOP_WORDS", "fold", "stem", "analyze",
           "text_analyzer", "tag_analyzer", "WORD_PATTERN"]

#: A word: letters and digits (with any combining marks of decomposed input); ``_`` and punctuation
#: separate words, so «ο_δήμος» is two words.
WORD_PATTERN = r"(?:[^\W_][\u0300-\u036f]*)+"

#: Tokens longer than this are noise (hashes, base64, pasted garbage), not words anyone searches for.
MAX_TOKEN_LENGTH = 60

_COMBINING = re.compile(r"[\u0300-\u036f\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_GREEK_LETTER = re.compile(r"[\u0370-\u03ff]")
_LATIN_LETTER = re.compile(r"[a-z]")
_GREEK_VOWELS = frozenset("αεηιουω")
_DOUBLED_CONSONANT = re.compile(r"([βγδζθκλμνξπρστφχψ])\1")


def fold(text: str) -> str:
    """Lowercase, strip accents and dialytika, and write final sigma as σ: «ΔΉΜΟΣ», «Δήμος» → «δημοσ»."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return _COMBINING.sub("", decomposed).replace("ς", "σ")


# Written with their accents for readability and folded below, exactly as tokens are.
_GREEK = """
ο η το οι τα του της των τον την τη τους τις τες ένας ενός έναν μια μία μιας ένα
εγώ εμένα εσύ εσένα αυτός αυτή αυτό αυτοί αυτές αυτά αυτού αυτής αυτών αυτόν αυτήν αυτούς
εμείς εσείς μου σου μας σας με σε
εκείνος εκείνη εκείνο εκείνοι εκείνες εκείνα εκείνου εκείνης εκείνων εκείνον εκείνους
τούτος τούτη τούτο τούτοι τούτα
ποιος ποια ποιο ποιοι ποιες ποιου ποιας ποιων ποιον ποιους
οποίος οποία οποίο οποίοι οποίες οποίου οποίας οποίων οποίον οποίους όποιος όποια όποιο
κάποιος κάποια κάποιο κάποιοι κάποιες κάποιου κάποιας κάποιων κάποιον κάποιους
κάθε καθένας καθεμία καθένα όλος όλη όλο όλοι όλες όλα όλου όλης όλων όλον όλους
ίδιος ίδια ίδιο τι τίποτα κάτι κανείς κανένας καμία κανένα άλλος άλλη άλλο άλλοι άλλες άλλα
και κι ή να θα δεν δε μην μη όχι ναι αν εάν ότι πως που όπου όπως όταν ενώ αλλά όμως ούτε
είτε μήτε επειδή αφού γιατί διότι ώστε λοιπόν ας ακόμα ακόμη ήδη πολύ πιο μόνο επίσης έτσι
τότε εδώ εκεί τώρα πάντα μήπως μάλλον ίσως
στο στον στη στην στα στους στις στου στης από για προς κατά μετά χωρίς παρά αντί έως ως
μέχρι μεταξύ εντός εκτός υπό περί διά δια πριν πάνω κάτω μέσα έξω δίπλα μπροστά πίσω μέσω
είναι είμαι είσαι είμαστε είστε ήταν ήμουν ήσουν ήμασταν ήσασταν έχει έχουν έχω έχεις έχουμε
έχετε είχε είχαν
"""

_ENGLISH = """
a an the and or but if then else when while of at by for with about against between into through
during before after above below to from up down in out on off over under again further once here
there where why how all any both each few more most other some such no nor not only own same so
than too very can will just should now is are was were be been being have has had having do does
did doing i me my myself we our ours you your yours he him his she her hers it its they them their
theirs what which who whom this that these those am would could shall may might must also
"""

#: Greek stop words, folded the way tokens are (so «του» and «ΤΟΥ» both stop).
GREEK_STOP_WORDS: frozenset[str] = frozenset(fold(word) for word in _GREEK.split())
#: English stop words.
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(_ENGLISH.split())
STOP_WORDS: frozenset[str] = GREEK_STOP_WORDS | ENGLISH_STOP_WORDS

#: Names everything that decides which terms a word becomes. An index written under another
#: version is rebuilt (see knet.search.indexing); change it whenever a rule here changes.
ANALYSIS_VERSION = (f"4:pystemmer-{version('PyStemmer')}:simplemma-{version('simplemma')}")

# Snowball (PyStemmer, in C) stemmer objects are not thread-safe, so threads share them under a
# lock; the cache in front of it means the lock is only taken for words never seen before.
_stemmers = {"greek": Stemmer.Stemmer("greek"), "english": Stemmer.Stemmer("english")}
_stemmer_lock = threading.Lock()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The stem of one folded word: for Greek script, its lemma's stem when the lemma table knows
    the word, else its own Greek stem; English Snowball for Latin script; else the word itself."""
    if _GREEK_LETTER.search(word):
        return lemma_stems().get(word) or greek_stem(word)
    if _LATIN_LETTER.search(word):
        with _stemmer_lock:
            return _stemmers["english"].stemWord(word)
    return word


def greek_stem(word: str) -> str:
    """Snowball Greek, made consistent where it is not:

    - it keeps the ι of -ια/-ιο in some forms and not others («γαλλια» → «γαλλ», «γαλλιασ» →
      «γαλλι»): a final ι after a consonant goes;
    - it removes the adjective suffix -ικ in some cases only («πολιτικο» → «πολιτ», «πολιτικη» →
      «πολιτικ»): a final ικ goes;
    - doubled consonants become single, as spelling and aspect vary them («υποβάλλει», «υποβάλει»).
    """
    with _stemmer_lock:
        stemmed = _stemmers["greek"].stemWord(word)
    if len(stemmed) >= 5 and stemmed[-1] == "ι" and stemmed[-2] not in _GREEK_VOWELS:
        stemmed = stemmed[:-1]
    if len(stemmed) >= 5 and stemmed.endswith("ικ"):
        stemmed = stemmed[:-2]
    return _DOUBLED_CONSONANT.sub(r"\1", stemmed)


class FoldFilter(Filter):
    """Fold each token (see :func:`fold`)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = fold(token.text)
            yield token


@lru_cache(maxsize=200_000)
def term_of(word: str) -> tuple[str, str | None]:
    """A word as written → (its folded form, its term or None for a stop word or noise)."""
    folded = fold(word)
    if folded in STOP_WORDS or len(folded) > MAX_TOKEN_LENGTH:
        return folded, None
    return folded, stem(folded)


class TermTokenizer(Tokenizer):
    """The whole chain in one pass over the text: tokenise, fold, drop stop words, stem.

    Each distinct word is worked out once (cached), so indexing a document costs a regular-expression
    scan and a dictionary lookup per word. Positions count the words that remain (stop words leave
    no gap), so a phrase matches whatever stop words the typist put in or left out. With
    ``removestops=False`` (highlighting) stop words come through, marked ``stopped``."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.boost = 1.0
        position = start_pos
        matches = _WORD_RE.finditer(value) if tokenize else [_Whole(value)]
        for match in matches:
            word = match.group()
            folded, term = term_of(word)
            if term is None:
                if removestops:
                    continue
                token.text, token.stopped = folded, True
            else:
                token.text, token.stopped = term, False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = position
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            if term is not None:
                position += 1
            yield token


class _Whole:
    """The whole value as one match (``tokenize=False``)."""

    def __init__(self, value: str):
        self._value = value

    def group(self) -> str:
        return self._value

    def start(self) -> int:
        return 0

    def end(self) -> int:
        return len(self._value)


_WORD_RE = re.compile(WORD_PATTERN)


def text_analyzer():
    """The analyzer for titles, bodies and the query text typed against them."""
    return TermTokenizer()


def tag_analyzer():
    """The analyzer for comma-separated tags: each tag is one folded term («Προμήθειες» → «προμηθειεσ»).
    Stop words go, so that «τι» in a query does not demand a tag «τι»."""
    return RegexTokenizer(r"[^,]+") | StripFilter() | FoldFilter() | StopFilter(stoplist=STOP_WORDS, minsize=1)


_ANALYZER = text_analyzer()


def analyze(text: str) -> list[str]:
    """The terms a text is indexed (or searched) under: ``analyze("Οι Δήμοι")`` → ``["δημ"]``."""
    return [token.text for token in _ANALYZER(text)]
