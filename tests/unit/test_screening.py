"""Lead screening through the policy brain: real leads pass, spam is ignored with its signals."""

# The corpora are data: one lead a line, in its own script and punctuation.
# ruff: noqa: E501, RUF001

from __future__ import annotations

import random
from typing import Any

import pytest

from tray_agent.config import DEFAULT_RULES_FILE, DEFAULT_WORKFLOWS_FILE
from tray_agent.domain.agent.policy import PolicyBrain
from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.domain.agent.screening import screen_lead
from tray_agent.models.decisions import DecisionAction


@pytest.fixture(scope="module")
def policy() -> PolicyBrain:
    registry = ToolRegistry.from_file(DEFAULT_WORKFLOWS_FILE)
    return PolicyBrain.from_file(DEFAULT_RULES_FILE, known_workflows=registry.__contains__)


def lead(**data: Any) -> dict[str, Any]:
    return {"id": "e1", "type": "lead.created", "source": "webform", "data": data, "context": {}}


# Leads as forms and CRMs send them: many countries and scripts, company domains with country
# and second-level TLDs, subdomains, plus-addressing, IDN domains, free-mail senders, names that
# look odd to an English eye, messages in their own language, one link to their own site.
LEGITIMATE = [
    {"email": "ann@smallco.io", "company": "SmallCo", "employees": 12},
    {"email": "kobai@sakura-robotics.jp", "name": "小林 大輔", "company": "さくらロボティクス株式会社"},
    {"email": "tanaka.h@rakuten.co.jp", "name": "Hiroshi Tanaka", "company": "Rakuten Group"},
    {"email": "einkauf@nordlicht-mb.de", "company": "Nordlicht Maschinenbau GmbH", "message": "Wir bitten um ein Angebot für 40 Lizenzen."},
    {"email": "k.schwarzschild@hirschsprung-logistik.de", "name": "Katrin Schwarzschild", "company": "Hirschsprung Logistik"},
    {"email": "j.dupont@mail.atelier-dubois.fr", "name": "Jean Dupont", "company": "Atelier Dubois SARL", "message": "Bonjour, pouvez-vous nous présenter une démo la semaine prochaine ?"},
    {"email": "maria.garcia+webinar@telefonica.es", "name": "María García", "company": "Telefónica", "message": "¿Podemos agendar una llamada para hablar de precios?"},
    {"email": "joao.silva@nubank.com.br", "name": "João Silva", "company": "Nubank", "message": "Olá, gostaria de saber mais sobre a integração com o Salesforce."},
    {"email": "g.rossi@enel.it", "name": "Giulia Rossi", "company": "Enel S.p.A.", "message": "Buongiorno, vorremmo una demo."},
    {"email": "p.devries@ing.nl", "name": "Pieter de Vries", "company": "ING Groep"},
    {"email": "anna.kowalska@allegro.pl", "name": "Anna Kowalska", "company": "Allegro"},
    {"email": "k.przybyszewski@cdprojekt.com", "name": "Krzysztof Przybyszewski", "company": "CD Projekt"},
    {"email": "s.szczepanski@pkobp.pl", "name": "Szymon Szczepański", "company": "PKO Bank Polski"},
    {"email": "ivan.petrov@yandex-team.ru", "name": "Иван Петров", "company": "Яндекс", "message": "Здравствуйте, интересует интеграция с нашей CRM."},
    {"email": "priya.sharma@infosys.co.in", "name": "Priya Sharma", "company": "Infosys Limited"},
    {"email": "li.wei@huawei.com", "name": "李伟", "company": "华为技术有限公司", "message": "您好，我们想了解企业版的价格。"},
    {"email": "minjun.kim@samsung.co.kr", "name": "김민준", "company": "Samsung SDS"},
    {"email": "nguyen.van.an@fpt.com.vn", "name": "Nguyễn Văn An", "company": "FPT Software"},
    {"email": "olu.adeyemi@paystack.com", "name": "Olúwaseun Adéyẹmí", "company": "Paystack"},
    {"email": "thandi@tshabalala-attorneys.co.za", "name": "Thandi Tshabalala", "company": "Tshabalala Attorneys Inc."},
    {"email": "ahmed.alsayed@careem.com", "name": "أحمد السيد", "company": "Careem"},
    {"email": "siobhan.nibhriain@kerrygroup.ie", "name": "Siobhán Ní Bhriain", "company": "Kerry Group plc"},
    {"email": "olafur@marel.is", "name": "Ólafur Guðmundsson", "company": "Marel hf."},
    {"email": "sven.lindqvist@ikea.se", "name": "Sven Lindqvist", "company": "IKEA"},
    {"email": "müller@bücher.de", "name": "Jürgen Müller", "company": "Bücher & Co"},
    {"email": "xu.zhang@tencent.com", "name": "Xu Zhang", "company": "Tencent"},
    {"email": "ng@dbs.com.sg", "name": "Ng Kah Wai", "company": "DBS Bank"},
    {"email": "cfo@bigbank.com", "company": "Big Bank", "employees": 5000},
    {"email": "cto@ledgerly.io", "company": "Ledgerly", "employees": 200, "industry": "fintech"},
    {"email": "it-procurement@eu.siemens-healthineers.com", "company": "Siemens Healthineers AG"},
    {"email": "r.jones@ibm.com", "company": "International Business Machines", "message": "See our RFP at https://ibm.com/rfp/2291"},
    {"email": "jane.doe1987@gmail.com", "name": "Jane Doe", "company": "Doe Consulting", "message": "Small agency, 3 people. Is there a free trial?"},
    {"email": "mike.obrien@outlook.com", "name": "Mike O'Brien", "message": "Do you integrate with HubSpot and Zendesk? Pricing page: https://acme.example/pricing"},
    {"email": "lena@fastmail.com", "name": "Lena", "company": "Freelance"},
    {"email": "hello@brightline.co.uk", "company": "Brightline", "message": "We'd like to book a call next week!"},
    {"email": "a.b@c-d.io", "name": "Al", "company": "CD"},
    {"email": "Marcus.Brown@Accenture.com", "name": "Marcus Brown", "company": "Accenture", "message": "URGENT: our renewal is Friday, please call."},
]  # fmt: skip


@pytest.mark.parametrize("data", LEGITIMATE, ids=lambda d: d["email"])
def test_a_legitimate_lead_is_enriched_never_screened_out(policy: PolicyBrain, data: dict[str, Any]) -> None:
    assert policy.screen(lead(**data)) is None  # the first pass leaves it alone (and to a model)
    decision = policy.decide(lead(**data))
    assert decision.action is DecisionAction.TRIGGER, decision.reason
    assert decision.rule != "spam-lead"
    assert screen_lead(data).score < 1.0


# Disposable services outside the old hand list of five, and subdomains of listed ones.
DISPOSABLE = [
    "sharklasers.com", "grr.la", "guerrillamailblock.com", "temp-mail.org", "maildrop.cc", "getnada.com",
    "dispostable.com", "mailnesia.com", "throwawaymail.com", "fakeinbox.com", "spam4.me", "mohmal.com",
    "emailondeck.com", "tempail.com", "discard.email", "moakt.com", "10minutemail.net", "yopmail.fr",
    "inbox.mailinator.com",
]  # fmt: skip


@pytest.mark.parametrize("domain", DISPOSABLE)
def test_a_lead_from_a_disposable_domain_is_ignored_naming_the_domain(
    policy: PolicyBrain, domain: str
) -> None:
    data = {"email": f"jane.doe@{domain}", "name": "Jane Doe", "company": "Doe Ltd", "employees": 20}
    decision = policy.screen(lead(**data))
    assert decision is not None and decision.action is DecisionAction.IGNORE
    assert decision.rule == "spam-lead"
    assert "disposable_domain" in decision.reason
    assert domain.removeprefix("inbox.") in decision.reason
    assert decision.calls == []


def test_the_dataset_not_a_hand_list_decides_disposable(policy: PolicyBrain) -> None:
    from disposable_email_domains import blocklist

    sample = random.Random(9).sample(sorted(blocklist), 200)
    missed = [d for d in sample if policy.screen(lead(email=f"someone@{d}", company="X")) is None]
    assert missed == []


SPAM_TEXTS = [
    ("en pharma", "Buy cheap Viagra and Cialis online, no prescription needed."),
    ("en seo", "Hi, I noticed your site is not on the first page of Google. Our SEO services can fix it."),
    ("en crypto", "Double your bitcoin in 24 hours with our guaranteed program"),
    ("en money", "Make money from home! Earn $500 per day with this simple trick!!!"),
    (
        "en shouting",
        "CLICK HERE NOW TO CLAIM YOUR FREE GIFT CARD!!! http://promo.example.ru/win http://bit.ly/3xYz",
    ),
    ("de", "Schnell Geld verdienen von zu Hause – jetzt klicken: http://bit.ly/gewinn"),
    ("fr", "Casino en ligne : 200 free spins offerts, cliquez ici !"),
    ("es", "Gane dinero rápido desde casa, haga clic aquí para empezar"),
    ("pt", "Ganhe dinheiro todos os dias, clique aqui"),
    ("it", "Guadagna soldi con il casinò online, offerta esclusiva"),
    ("ru", "Быстрые деньги и заработок в интернете без вложений"),
    ("zh", "澳门赌场，注册即可免费领取彩金"),
    ("links", "Our offer: www.cheap-rx.example/a www.cheap-rx.example/b www.cheap-rx.example/c buy now"),
]


@pytest.mark.parametrize(("label", "text"), SPAM_TEXTS, ids=[label for label, _ in SPAM_TEXTS])
def test_spam_text_is_ignored_with_the_signals_that_fired(policy: PolicyBrain, label: str, text: str) -> None:
    # A plausible company address: the text alone gives it away.
    data = {"email": "sales.team@northwind-trading.com", "name": "Alex Morgan", "message": text}
    decision = policy.screen(lead(**data))
    assert decision is not None, screen_lead(data).reason
    assert decision.action is DecisionAction.IGNORE and decision.rule == "spam-lead"
    assert "spam score" in decision.reason
    fired = screen_lead(data).for_rules()["signals"]
    assert fired and all(name in decision.reason for name in fired)


def test_words_inside_other_words_are_not_spam_phrases() -> None:
    # Whole words only: "cialis" is in "specialists", and that is not spam.
    data = {"email": "r.k@medtronic.com", "company": "Medtronic", "message": "Our specialists want a demo."}
    assert screen_lead(data).signals == ()


def test_soft_signals_alone_do_not_screen_a_lead(policy: PolicyBrain) -> None:
    # A shared inbox, a company that is not its domain, two links, and excitement: still a lead.
    data = {
        "email": "info@acme-holdings.com",
        "company": "Zenith Partners",
        "message": "Great product! See https://acme-holdings.com and https://zenith.example!",
    }
    verdict = screen_lead(data)
    assert {"role_address", "company_mismatch", "links"} <= set(verdict.for_rules()["signals"])
    assert verdict.score < 1.0
    assert policy.decide(lead(**data)).action is DecisionAction.TRIGGER


def test_soft_signals_together_do(policy: PolicyBrain) -> None:
    data = {
        "email": "noreply@qxwzkvbt.com",
        "name": "Xkqzjwvt Pzrtk",
        "company": "Acme",
        "message": "Visit https://a.example https://b.example https://c.example",
    }
    decision = policy.screen(lead(**data))
    assert decision is not None and decision.rule == "spam-lead"
    for signal in ("unreachable_address", "gibberish_name", "links"):
        assert signal in decision.reason


@pytest.mark.parametrize("email", ["info@brightline.co.uk", "sales@acme-mfg.com", "support+eu@ledgerly.io"])
def test_a_role_address_is_enriched_at_low_priority_not_dropped(policy: PolicyBrain, email: str) -> None:
    decision = policy.decide(lead(email=email, company="Brightline", employees=30))
    assert decision.action is DecisionAction.TRIGGER
    assert decision.rule == "role-address-lead"
    assert decision.calls[0].workflow == "lead_enrichment"
    assert decision.calls[0].input["priority"] == "low"
    assert "shared inbox" in decision.reason


def test_a_large_company_from_a_role_address_still_goes_enterprise(policy: PolicyBrain) -> None:
    decision = policy.decide(lead(email="info@bigbank.com", company="Big Bank", employees=5000))
    assert decision.first_workflow == "enterprise_lead_routing"


@pytest.mark.parametrize(
    "email", ["ann@@smallco.io", "ann@smallco", "ann smith@smallco.io", "ann@localhost", ".ann@smallco.io"]
)
def test_an_address_that_cannot_exist_is_ignored_with_the_libraries_reason(
    policy: PolicyBrain, email: str
) -> None:
    decision = policy.screen(lead(email=email, company="SmallCo"))
    assert decision is not None and decision.rule == "spam-lead"
    assert "invalid_address" in decision.reason


def test_a_lead_without_an_address_is_ignored_as_before(policy: PolicyBrain) -> None:
    decision = policy.screen(lead(company="NoMail"))
    assert decision is not None and "no_address" in decision.reason


def test_other_event_types_are_not_screened(policy: PolicyBrain) -> None:
    # An order's data carries no lead: the screen is never asked (and would find no address).
    order = {"id": "o", "type": "order.created", "data": {"order_id": "o-1", "total": 5}, "context": {}}
    assert policy.screen(order) is None
    assert policy.decide(order).first_workflow == "order_processing"


@pytest.mark.parametrize(
    "message",
    [
        "We provide white-label link building and backlinks from high authority sites",
        "Targeted leads: 50,000 verified emails of IT decision makers, would you be interested in buying?",
        "Make $300 per day with our bitcoin robot, guaranteed returns",
        "Our agency offers offshore development teams at $15/hour",
    ],
)
def test_unsolicited_offers_add_up_to_spam(message: str) -> None:
    verdict = screen_lead({"email": "hello@growth-partners.net", "company": "Initech", "message": message})
    assert verdict.score >= 1.0, verdict.reason


@pytest.mark.parametrize(
    "message",
    [
        "Could we get a demo for our SEO and content team next week?",
        "We offer logistics services and want to automate our order sync with NetSuite",
        "Looking at your enterprise plan for 200 seats; do you support SSO?",
        "Our outsourcing partner needs API access for the integration, what are the limits?",
    ],
)
def test_prospects_who_mention_the_same_words_are_not_spam(message: str) -> None:
    verdict = screen_lead({"email": "maria@initech.com", "company": "Initech", "message": message})
    assert verdict.score < 1.0, verdict.reason
