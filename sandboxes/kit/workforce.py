"""A workforce of any size for the demo company, generated: the same seed and index give the same
employee every time, whatever the headcount (employee 7 of 100 is employee 7 of 50,000).

Employees are spread over the legal entities of seed/company.toml (US01 three to DE01's two) and
over each entity's active cost centers, with a name from a short list of the entity's country, a
monthly base salary in cents, and a bank account: a German IBAN (bank code and check digits
computed, so schwifty accepts it, national check digit included) or a US account number, each
with the bank's BIC.

One employee in 2,000 (index 7, 2007, 4007, ...) has an account that is closed at the bank, so a
payroll's payment file always has a rejection to deal with once it has eight employees or more.
The bank sandbox asks ``closed_account`` about each account it is paid to: a generated account
tells its employee's index, and so whether it is closed, without any list of accounts.

The company file's named employees (``[[employees]]``: E1000, E2001, ...) can be employees of the
workforce too (``Workforce.company_staff``): their own id, name, entity, cost center and bank
account, a salary drawn like a generated one's. Their indexes come after every generated index,
and their accounts are not generated ones (the bank registers them from the company file).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

CLOSED_EVERY = 2000
CLOSED_FIRST = 7
# Employees per entity, relative; an entity not named here gets a share of 1.
DEFAULT_SHARES: Mapping[str, int] = {"US01": 3, "DE01": 2}

# Generated German accounts: banks whose national check digit is method 00 (Bundesbank's modulus
# 10, weights 2,1,2,...), and account numbers 9 + eight digits of the index + that check digit.
GERMAN_BANKS: Mapping[str, str] = {
    "20050550": "HASPDEHHXXX",   # Hamburger Sparkasse
    "37050198": "COLSDE33XXX",   # Sparkasse KölnBonn
    "70150000": "SSKMDEMMXXX",   # Stadtsparkasse München
    "66050101": "KARSDE66XXX",   # Sparkasse Karlsruhe
    "29050101": "SBREDE22XXX",   # Sparkasse Bremen
    "48050161": "SPBIDE3BXXX",   # Sparkasse Bielefeld
}
GERMAN_BANK_LIST = tuple(GERMAN_BANKS.items())
US_BANKS = ("CHASUS33XXX", "BOFAUS3NXXX", "WFBIUS6SXXX", "CITIUS33XXX")
# Generated US account numbers: 9 + eleven digits of the index.
US_ACCOUNT_LENGTH = 12
GENERATED_PREFIX = "9"
MAX_EMPLOYEES = 10**8                 # the eight digits of the index in a German account number
# A named employee's id goes into report JSON as it is: nothing in it to escape.
NAMED_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class Country:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    annual_salary: tuple[int, int]      # whole currency units, in steps of 500


COUNTRIES: Mapping[str, Country] = {
    "US": Country(
        ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
         "William", "Barbara", "Carlos", "Susan", "Wei", "Jessica", "Daniel", "Sarah", "Aisha", "Karen",
         "Matthew", "Nancy", "Anthony", "Priya"),
        ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
         "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
         "Lee", "Nguyen", "Patel", "Kim"),
        (45_000, 185_000)),
    "DE": Country(
        ("Lukas", "Anna", "Leon", "Lena", "Finn", "Marie", "Jonas", "Sophie", "Paul", "Emma", "Felix", "Hannah",
         "Elias", "Mia", "Noah", "Laura", "Ben", "Julia", "Luis", "Lea", "Max", "Katharina", "Emil", "Clara"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
         "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
         "Braun", "Krüger", "Hofmann", "Lange"),
        (38_000, 120_000)),
}


@dataclass(frozen=True, slots=True)
class Employee:
    index: int                     # generated: 0 to MAX_EMPLOYEES - 1; named: MAX_EMPLOYEES and up
    worker_id: str                 # "W000123", or a named employee's id ("E2001")
    first_name: str
    last_name: str
    entity: str                    # legal entity code
    country: str
    currency: str
    cost_center: str
    monthly_salary_cents: int
    bic: str
    iban: str | None = None
    account_number: str | None = None   # where there is no IBAN (US)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def monthly_salary(self) -> Decimal:
        return Decimal(self.monthly_salary_cents).scaleb(-2)

    @property
    def account_id(self) -> str:
        """The account as the bank knows it: the IBAN, or the domestic account number."""
        return self.iban or self.account_number or ""


@dataclass(frozen=True)
class _Entity:
    code: str
    country: str
    currency: str
    cost_centers: tuple[str, ...]
    share: int


def worker_id(index: int) -> str:
    return f"W{index:06d}"


def worker_index(worker: str) -> int | None:
    """The index of a generated worker id ("W000123" -> 123); None for anything else."""
    digits = worker[1:]
    if not (worker[:1] == "W" and digits.isascii() and digits.isdigit() and len(digits) <= 8):
        return None
    return int(digits) if worker_id(int(digits)) == worker else None


def closed_index(index: int) -> bool:
    return index % CLOSED_EVERY == CLOSED_FIRST


def closed_account(account_id: str) -> bool:
    """Whether a generated employee's account is closed at the bank; False for any other account."""
    index = generated_account_index(account_id)
    return index is not None and closed_index(index)


def generated_account_index(account_id: str) -> int | None:
    """The employee index a generated account encodes; None for an account not generated here."""
    compact = account_id.replace(" ", "").upper()
    if compact.startswith("DE") and len(compact) == 22:
        bank_code, account = compact[4:12], compact[12:]
        if (bank_code in GERMAN_BANKS and account.isdigit() and account[0] == GENERATED_PREFIX
                and german_iban(bank_code, account) == compact and method_00_check_digit(account[:9]) == account[9]):
            return int(account[1:9])
        return None
    if len(compact) == US_ACCOUNT_LENGTH and compact.isdigit() and compact[0] == GENERATED_PREFIX:
        return int(compact[1:])
    return None


def method_00_check_digit(account_base: str) -> str:
    """The Bundesbank's method 00: weights 2,1,2,... from the right, digit sums of the products,
    the check digit takes the sum to a multiple of ten."""
    total = 0
    for position, digit in enumerate(reversed(account_base)):
        product = int(digit) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def salary_steps(country: Country) -> int:
    """How many annual salaries the country's range holds, in steps of 500."""
    low, high = country.annual_salary
    return (high - low) // 500 + 1


def monthly_salary_cents(country: Country, step: int) -> int:
    """A twelfth of the ``step``-th annual salary of the country's range, to the cent, half up."""
    annual_cents = (country.annual_salary[0] + 500 * step) * 100
    return (annual_cents + 6) // 12


def german_iban(bank_code: str, account: str) -> str:
    """DE + ISO 13616 mod-97 check digits + bank code + ten-digit account number."""
    bban = bank_code + account.zfill(10)
    check = 98 - int(bban + "131400") % 97     # "DE00" moved to the end, letters as numbers (D=13, E=14)
    return f"DE{check:02d}{bban}"


class Workforce:
    """The demo company's employees, generated from ``seed``; employee ``i`` depends only on the seed."""

    def __init__(self, company: Mapping[str, Any], seed: int = 0, shares: Mapping[str, int] = DEFAULT_SHARES) -> None:
        self.seed = seed
        self._company_entities = {entity["code"]: entity for entity in company["entities"]}
        self._named = tuple(company.get("employees", []))
        entities = []
        for entity in company["entities"]:
            centers = tuple(cc["code"] for cc in company.get("cost_centers", [])
                            if cc["entity"] == entity["code"] and cc.get("active", True))
            if centers:
                entities.append(_Entity(entity["code"], entity["country"], entity["currency"], centers,
                                        shares.get(entity["code"], 1)))
        if not entities:
            raise ValueError("the company has no legal entity with an active cost center to employ anyone in")
        self._entities = tuple(entities)
        self._share_total = sum(entity.share for entity in entities)

    def employees(self, count: int) -> list[Employee]:
        return [self.employee(index) for index in range(count)]

    def employee(self, index: int) -> Employee:
        if not 0 <= index < MAX_EMPLOYEES:
            raise ValueError(f"employee index {index} is outside 0 to {MAX_EMPLOYEES - 1}")
        draw = int.from_bytes(hashlib.blake2b(f"{self.seed}:{index}".encode(), digest_size=16).digest(), "big")
        draw, pick = divmod(draw, self._share_total)
        entity = self._entity(pick)
        country = COUNTRIES[entity.country]
        draw, center = divmod(draw, len(entity.cost_centers))
        draw, first = divmod(draw, len(country.first_names))
        draw, last = divmod(draw, len(country.last_names))
        draw, step = divmod(draw, salary_steps(country))
        draw, bank = divmod(draw, len(GERMAN_BANK_LIST) * len(US_BANKS))
        iban = account_number = None
        if entity.country == "DE":
            bank_code, bic = GERMAN_BANK_LIST[bank % len(GERMAN_BANK_LIST)]
            base = f"{GENERATED_PREFIX}{index:08d}"
            iban = german_iban(bank_code, base + method_00_check_digit(base))
        else:
            bic = US_BANKS[bank % len(US_BANKS)]
            account_number = f"{GENERATED_PREFIX}{index:011d}"
        return Employee(index=index, worker_id=worker_id(index), first_name=country.first_names[first],
                        last_name=country.last_names[last], entity=entity.code, country=entity.country,
                        currency=entity.currency, cost_center=entity.cost_centers[center],
                        monthly_salary_cents=monthly_salary_cents(country, step),
                        bic=bic, iban=iban, account_number=account_number)

    def company_staff(self) -> list[Employee]:
        """The company file's named employees, in its order, numbered from MAX_EMPLOYEES; each one's
        salary is drawn from the seed and their id, in their country's range."""
        staff = []
        for position, named in enumerate(self._named):
            employee_id = named["id"]
            if not NAMED_ID.fullmatch(employee_id) or worker_index(employee_id) is not None:
                raise ValueError(f"employee id {employee_id!r} in the company file is not letters, digits, - and _ "
                                 "or looks like a generated worker id")
            entity = self._company_entities[named["entity"]]
            country = COUNTRIES[entity["country"]]
            draw = int.from_bytes(hashlib.blake2b(f"{self.seed}:{employee_id}".encode(), digest_size=8).digest(), "big")
            first_name, _, last_name = named["name"].partition(" ")
            staff.append(Employee(index=MAX_EMPLOYEES + position, worker_id=employee_id, first_name=first_name,
                                  last_name=last_name, entity=entity["code"], country=entity["country"],
                                  currency=entity["currency"], cost_center=named["cost_center"],
                                  monthly_salary_cents=monthly_salary_cents(country, draw % salary_steps(country)),
                                  bic=named["bic"], iban=named.get("iban"), account_number=named.get("account_number")))
        return staff

    def _entity(self, pick: int) -> _Entity:
        for entity in self._entities:
            if pick < entity.share:
                return entity
            pick -= entity.share
        raise AssertionError("a pick below the share total always lands in an entity")
