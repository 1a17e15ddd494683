"""Lead screening: a small, explainable spam score from independent signals.

The policy brain asks for a verdict on lead-like events (the types whose rules mention
``screening.…``) and the rules decide on it, e.g. ``{"path": "screening.score", "op": "gte",
"value": 1.0}`` and a reason quoting ``{screening.reason}``. Each signal has a fixed weight; a
lead is spam when the weights add up to the rule's threshold. Hard signals (a disposable
domain, an address that cannot exist, no address at all, a pharma/casino/scam phrase) weigh
1.0 alone; the soft ones (shouting, many links, a role address, gibberish names, a company
that does not match the domain) only count together, so a real lead with one oddity is never
dropped. The verdict names every signal that fired, so each ignore says why.

Data sources are maintained packages, loaded on first use (a cold start for any other event
pays nothing): ``disposable-email-domains`` (the community blocklist, ~10,000 domains) and
``email-validator`` (RFC syntax, IDNA domains, and its RFC 2142 role mailbox names).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

# Where a lead's parts live in the event's data (senders name them differently).
EMAIL_FIELDS = ("email", "email_address", "contact_email")
NAME_FIELDS = ("name", "full_name", "first_name", "last_name", "firstname", "lastname", "contact_name")
COMPANY_FIELDS = ("company", "company_name", "organization", "organisation")
TEXT_FIELDS = ("message", "comments", "comment", "notes", "description", "subject", "text", "body")

HARD = 1.0  # one of these alone reaches the default threshold

# RFC 2142's names come from email-validator; these are the other shared inboxes forms see.
_EXTRA_ROLE_NAMES = frozenset(
    {
        "admin", "administrator", "office", "contact", "contacts", "hello", "team", "enquiries",
        "enquiry", "inquiries", "inquiry", "help", "billing", "accounts", "accounting", "finance",
        "hr", "jobs", "careers", "press", "media", "newsletter", "service", "customerservice",
        "kontakt", "contacto", "contato", "bonjour", "vertrieb",
    }
)  # fmt: skip
# Nobody reads these: a form filled in with one is a bot, a test, or a typo'd autofill.
_UNREACHABLE_NAMES = frozenset(
    {
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "mailer-daemon",
        "bounce",
    }
)
# Big free-mail providers: a company name never matches them, so that signal skips them.
# (Not a blocklist: a provider missing here only adds the weak "mismatch" signal.)
_FREEMAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
        "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com",
        "gmx.de", "gmx.net", "gmx.com", "web.de", "t-online.de", "freenet.de", "orange.fr", "free.fr",
        "laposte.net", "sfr.fr", "libero.it", "virgilio.it", "mail.ru", "yandex.ru", "yandex.com",
        "rambler.ru", "qq.com", "163.com", "126.com", "sina.com", "naver.com", "daum.net",
        "yahoo.co.jp", "rediffmail.com", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "terra.com.br",
        "uol.com.br", "bol.com.br", "zoho.com", "fastmail.com", "tutanota.com", "hey.com",
    }
)  # fmt: skip
_LEGAL_SUFFIXES = frozenset(
    {
        "inc", "ltd", "llc", "llp", "plc", "corp", "corporation", "co", "company", "gmbh", "ag", "kg",
        "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "ab", "as", "oy", "kk", "pty", "pvt", "limited",
        "group", "holding", "holdings", "the", "and", "und", "et", "de", "la", "le", "of",
    }
)  # fmt: skip

# Spam phrases, several languages. Strong: the offer itself is the spam (pharma, gambling,
# scams, link selling). Medium: pressure wording, or a gambling word alone (a casino chain is a
# customer too): real leads rarely use them, and two are needed.
_STRONG_PHRASES = (
    # English
    r"viagra", r"cialis", r"levitra", r"online pharmacy", r"no prescription needed", r"online casinos?",
    r"casino bonus", r"free spins", r"no deposit bonus", r"online gambling", r"crypto giveaway",
    r"bitcoin doubler",
    r"double your (?:bitcoin|btc|crypto|money)", r"seo services", r"cheap backlinks",
    r"buy backlinks", r"backlinks? package", r"guest posts? (?:service|for sale|on high da)",
    r"first page (?:of|on) google", r"rank (?:your|ur) (?:website|site) (?:#?1|first|higher)",
    r"make money (?:fast|online|from home)", r"earn \$?\d[\d,]* (?:per|a|every) (?:day|week|hour)",
    r"work from home and earn", r"you have (?:been selected|won)", r"lottery winner",
    r"claim your (?:prize|reward)", r"inheritance (?:fund|transfer)", r"hot singles", r"sex dating",
    r"porn", r"adult (?:videos?|content|dating)", r"replica watches",
    r"weight loss pills?", r"binary options", r"forex signals",
    # German
    r"online-?casino", r"potenzmittel", r"schnell geld verdienen", r"geld verdienen von zu hause",
    r"sie haben gewonnen", r"kredit ohne schufa",
    # French
    r"casino en ligne", r"gagner de l'argent (?:facilement|rapidement|en ligne)",
    r"vous avez gagn[ée]", r"rencontres? coquines?",
    # Spanish / Portuguese / Italian / Dutch
    r"casino en l[ií]nea", r"gan(?:e|ar) dinero (?:f[aá]cil|r[aá]pido|desde casa)",
    r"ha(?:s|) ganado un premio", r"ganhe dinheiro", r"ganhar dinheiro (?:f[aá]cil|r[aá]pido)",
    r"cassino online", r"guadagn(?:a|are) soldi", r"casin[oò] online", r"snel geld verdienen",
    # Russian
    r"онлайн[- ]казино", r"быстрые деньги", r"заработ(?:ок|ать) в интернете", r"ставки на спорт",
)  # fmt: skip
_MEDIUM_PHRASES = (
    r"click here", r"act now", r"limited time offer", r"100% free", r"risk[- ]free", r"buy now",
    r"order now", r"exclusive deal", r"special promotion", r"increase your (?:sales|traffic)",
    r"boost your (?:traffic|ranking|rankings|seo)", r"dear (?:sir|madam|sir/madam|friend)",
    r"hello dear", r"web design services", r"app development services", r"guaranteed results",
    r"cheap price", r"lowest price", r"no credit check", r"casinos?", r"sports? betting", r"казино",
    r"hier klicken", r"jetzt klicken", r"nur heute", r"cliquez ici", r"offre (?:exclusive|limit[ée]e)",
    r"haga clic aqu[ií]", r"haz clic aqu[ií]", r"oferta (?:exclusiva|limitada)", r"clique aqui",
    r"clicca qui", r"offerta esclusiva", r"klik hier", r"нажмите здесь", r"жми сюда", r"скидка",
)  # fmt: skip
# Unsolicited offers through a contact form: what is sold (a topic), that it is being sold (a
# pitch), and promises of money. Each alone is weak (a prospect may well ask about SEO); together,
# or with another signal, they add up to spam.
_SOLICITATION_TOPICS = (
    r"seo", r"search engine optimi[sz]ation", r"backlinks?", r"link building", r"guest posts?",
    r"domain authority", r"(?:email|e-mail|contact|lead|mailing|attendee)s? lists?", r"databases? of",
    r"(?:instagram|tiktok|youtube|twitter) (?:followers|likes|views)", r"followers",
    r"outsourc\w*", r"offshore (?:development|team|developers)", r"white[- ]label",
    r"crypto\w*", r"bitcoin", r"forex", r"binary options", r"passive income", r"investment opportunit\w*",
    r"work(?:ing)? from home", r"weight loss", r"replicas?", r"rolex", r"viagra", r"cialis",
    r"payday loans?", r"business loans?", r"merchant cash advance",
)  # fmt: skip
_PITCH = (
    r"we (?:sell|offer|provide|supply|deliver)", r"our (?:services|agency|packages|team of experts)",
    r"i (?:am|'m) reaching out to offer", r"would you be interested in (?:buying|our|a)",
    r"(?:verified|targeted|opt-in) (?:emails?|leads|contacts|lists?|data)",
    r"we can help you (?:rank|grow|get)",
)  # fmt: skip
_MONEY_CLAIMS = (
    r"earn \$?\d", r"make \$\d", r"\$\s?\d[\d,.]* (?:a|per) (?:day|week|month)",
    r"\d+\s?% (?:monthly|weekly|daily|guaranteed) (?:returns?|profits?|income)",
    r"guaranteed (?:returns?|income|profits?|first page|page one|results|traffic)",
    r"double your (?:money|savings|income|investment)",
)  # fmt: skip
# Scripts without spaces between words: matched without word boundaries.
_CJK_PHRASES = (r"赌场", r"博彩", r"代开发票", r"免费领取", r"网赚", r"カジノ", r"出会い系")

_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_SHORTENER = re.compile(
    r"\b(?:bit\.ly|tinyurl\.com|t\.co|goo\.gl|ow\.ly|is\.gd|cutt\.ly|rb\.gy|shorturl\.at|t\.me)/",
    re.IGNORECASE,
)
_MESSENGER = re.compile(r"\b(?:whats\s?app|telegram|wechat)\b.{0,20}(?:\+?\d[\d\s-]{6,}|@\w{4,})", re.I)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_DIGRAPHS = re.compile(r"sch|tsch|[cst]h|ph|ck|gh|qu")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "yxcvbnm", "azertyuiop", "wxcvbn")
_KEYBOARD_RUNS = frozenset(row[i : i + 5] for row in _KEYBOARD_ROWS for i in range(len(row) - 4))


def _phrases(patterns: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words only ("cialis" is not in "specialist"); Latin and Cyrillic alike.
    return re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)", re.IGNORECASE)


_STRONG = _phrases(_STRONG_PHRASES)
_MEDIUM = _phrases(_MEDIUM_PHRASES)
_TOPICS = _phrases(_SOLICITATION_TOPICS)
_PITCHES = _phrases(_PITCH)
_MONEY = _phrases(_MONEY_CLAIMS)
_CJK = re.compile("|".join(_CJK_PHRASES))


@dataclass(frozen=True)
class Signal:
    name: str
    weight: float
    detail: str

    def __str__(self) -> str:
        return f"{self.name} ({self.detail}) +{self.weight:g}"


@dataclass(frozen=True)
class Verdict:
    signals: tuple[Signal, ...] = ()
    role_address: bool = False
    domain: str | None = None
    score: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "score", round(sum(s.weight for s in self.signals), 2))

    @property
    def reason(self) -> str:
        if not self.signals:
            return "no spam signal"
        return f"spam score {self.score:g}: " + ", ".join(str(s) for s in self.signals)

    def for_rules(self) -> dict[str, Any]:
        """What the rules see as ``screening.…``."""
        return {
            "score": self.score,
            "signals": [s.name for s in self.signals],
            "reason": self.reason,
            "role_address": self.role_address,
            "domain": self.domain,
        }


def screen_lead(data: Mapping[str, Any]) -> Verdict:
    """The verdict on one lead's data: every signal that fired, and whether it is a role address."""
    # Only the text fields matter, as a hashable key: the policy's first pass and its decision
    # ask about the same event, and the second answer is a cache hit.
    parts = tuple(
        (name, value) for name in _LEAD_FIELDS if isinstance(value := data.get(name), str) and value
    )
    return _verdict(parts)


_LEAD_FIELDS = (*EMAIL_FIELDS, *NAME_FIELDS, *COMPANY_FIELDS, *TEXT_FIELDS)


@lru_cache(maxsize=256)
def _verdict(parts: tuple[tuple[str, str], ...]) -> Verdict:
    data = dict(parts)
    signals: list[Signal] = []
    email = _first_text(data, EMAIL_FIELDS)
    role = False
    domain: str | None = None
    if email is None:
        signals.append(Signal("no_address", HARD, "no e-mail address"))
    else:
        address = _address(email.strip())
        if isinstance(address, str):
            signals.append(Signal("invalid_address", HARD, address))
        else:
            local, domain, ascii_domain = address
            if listed := _disposable(ascii_domain):
                signals.append(Signal("disposable_domain", HARD, listed))
            role, unreachable = _role(local)
            if unreachable:
                signals.append(Signal("unreachable_address", 0.6, f"{local}@ is never read"))
            elif role:
                signals.append(Signal("role_address", 0.3, f"{local}@ is a shared inbox"))
            company = _first_text(data, COMPANY_FIELDS)
            if company and _mismatch(company, ascii_domain):
                signals.append(Signal("company_mismatch", 0.2, "company name not in the e-mail domain"))
    signals.extend(_text_signals(" \n".join(_texts(data, TEXT_FIELDS))))
    signals.extend(_name_signals(data))
    return Verdict(signals=tuple(signals), role_address=role, domain=domain)


# -- the address ----------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _address(email: str) -> tuple[str, str, str] | str:
    """(local part, domain, ASCII domain), or why the address cannot exist."""
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)[:120]
    return valid.local_part, valid.domain, valid.ascii_domain.lower()


@cache
def _blocklist() -> frozenset[str]:
    from disposable_email_domains import blocklist

    return frozenset(blocklist)


def _disposable(domain: str) -> str | None:
    """The listed domain this one is or sits under (``x.mailinator.com`` → ``mailinator.com``)."""
    blocklist = _blocklist()
    labels = domain.split(".")
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        if candidate in blocklist:
            return candidate
    return None


@cache
def _role_names() -> frozenset[str]:
    try:
        from email_validator import rfc_constants
    except ImportError:  # moved in a later release: the extra names still work
        return _EXTRA_ROLE_NAMES
    return frozenset(getattr(rfc_constants, "CASE_INSENSITIVE_MAILBOX_NAMES", ())) | _EXTRA_ROLE_NAMES


def _role(local: str) -> tuple[bool, bool]:
    """(a shared inbox, one nobody reads). Plus-addressing is ignored: ``info+crm`` is ``info``."""
    name = local.lower().split("+", 1)[0]
    if name in _UNREACHABLE_NAMES:
        return True, True
    return name in _role_names(), False


def _fold(text: str) -> str:
    """Lower-case ASCII letters and digits only (``Telefónica`` → ``telefonica``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def _mismatch(company: str, domain: str) -> bool:
    parts = domain.split(".")
    if any(".".join(parts[start:]) in _FREEMAIL for start in range(len(parts) - 1)):
        return False
    labels = [_fold(label) for label in domain.split(".")[:-1]]  # the TLD names no one
    labels = [label for label in labels if len(label) >= 2]
    words = [_fold(w) for w in re.split(r"\W+", company)]
    words = [w for w in words if w and w not in _LEGAL_SUFFIXES]
    if not words or not labels or not any(ch.isascii() and ch.isalpha() for ch in company):
        return False  # a company name in another script: nothing to compare
    joined = "".join(words)
    acronym = "".join(w[0] for w in words)
    for label in labels:
        parts = label.split("-") if "-" in label else [label]
        for part in (label.replace("-", ""), *parts):
            if part in joined or joined in part or (len(acronym) >= 2 and part.startswith(acronym)):
                return False
            if any(len(w) >= 3 and w in part for w in words):
                return False
    return True


# -- the text ---------------------------------------------------------------------------------------
def _first_text(data: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _texts(data: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    return [value for name in names if isinstance(value := data.get(name), str) and value]


def _text_signals(text: str) -> list[Signal]:
    if not text:
        return []
    signals: list[Signal] = []
    strong = sorted({m.group(0).lower() for m in _STRONG.finditer(text)} | set(_CJK.findall(text)))
    if strong:
        signals.append(Signal("spam_phrase", HARD, ", ".join(repr(p) for p in strong[:3])))
    signals += _solicitation_signals(text)
    medium = sorted({m.group(0).lower() for m in _MEDIUM.finditer(text)})
    if medium:
        weight = min(0.5 * len(medium), HARD)
        signals.append(Signal("suspect_phrase", weight, ", ".join(repr(p) for p in medium[:3])))
    letters = [ch for ch in _URL.sub(" ", text) if ch.isalpha()]  # links are lower-case anyway
    uppers = sum(1 for ch in letters if ch.isupper())
    if len(letters) >= 20 and uppers / len(letters) >= 0.6:
        signals.append(Signal("shouting", 0.4, f"{uppers / len(letters):.0%} capitals"))
    if text.count("!") >= 3:
        signals.append(Signal("exclamations", 0.3, f"{text.count('!')} exclamation marks"))
    urls = len(_URL.findall(text))
    if urls >= 2:
        signals.append(Signal("links", 0.3 if urls == 2 else 0.6, f"{urls} links"))
    if _SHORTENER.search(text):
        signals.append(Signal("short_link", 0.3, "a shortened link"))
    if _MESSENGER.search(text):
        signals.append(Signal("messenger_contact", 0.3, "asks to move to a messenger"))
    return signals


def _solicitation_signals(text: str) -> list[Signal]:
    signals: list[Signal] = []
    for name, pattern, weight in (
        ("solicitation_topic", _TOPICS, 0.4),
        ("sales_pitch", _PITCHES, 0.4),
        ("money_claim", _MONEY, 0.6),
    ):
        found = sorted({m.group(0).lower() for m in pattern.finditer(text)})
        if found:  # each distinct phrase adds to it, up to twice its weight
            total = round(min(weight * len(found), 2 * weight), 2)
            signals.append(Signal(name, total, ", ".join(repr(p) for p in found[:3])))
    return signals


def _name_signals(data: Mapping[str, Any]) -> list[Signal]:
    fields = [
        (name, value) for name in (*NAME_FIELDS, *COMPANY_FIELDS) if isinstance(value := data.get(name), str)
    ]
    if any(_URL.search(value) for _, value in fields):
        return [Signal("link_in_name", 0.8, "a name field holds a link")]
    odd = sorted({name for name, value in fields if any(_gibberish(word) for word in _WORD.findall(value))})
    return [Signal("gibberish_name", 0.5, ", ".join(odd))] if odd else []


def _gibberish(word: str) -> bool:
    """A keyboard mash or a random string, judged for Latin letters only (other scripts pass)."""
    if len(word) < 5 or not word.isascii():
        return False
    lower = word.lower()
    if re.search(r"(.)\1{3}", lower):  # aaaa
        return True
    if any(lower[i : i + 5] in _KEYBOARD_RUNS for i in range(len(lower) - 4)):
        return True
    uppers_inside = sum(1 for ch in word[1:] if ch.isupper())
    if uppers_inside >= 3 and any(ch.islower() for ch in word):  # rAnDoM case
        return True
    # Sounds collapsed first (sch, th, ck…: one consonant each), so Hirschsprung or Tshabalala pass.
    collapsed = _DIGRAPHS.sub("C", lower)
    runs = re.findall(r"[^aeiouy]+", collapsed)
    longest = max((len(r) for r in runs), default=0)
    vowels = sum(1 for ch in collapsed if ch in "aeiouy")
    return longest >= 6 or (len(collapsed) >= 6 and vowels / len(collapsed) < 0.12)
