"""Payees sealed at rest (finsync/store/sealing.py): with payload encryption on, the store's file
holds no employee's name or bank account, finsync reads them back, and a key rotated out of
active use still opens what it sealed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from canonical.payroll import Payee
from finsync.codec import CodecError, EncryptionCodec, new_key
from finsync.config import CodecSettings
from finsync.store import IntegrationStore
from finsync.store.sealing import FieldSealer
from tests.store.test_payroll_store import ROWS, read, run

IBAN, NAME = "DE89370400440532013000", "Zebulon Quartermaine"
K1, K2 = new_key(), new_key()


def sealer(active: str = "k1", **keys: str) -> FieldSealer:
    codec = CodecSettings(enabled=True, keys={k: SecretStr(v) for k, v in (keys or {"k1": K1}).items()},
                          active_key_id=active)
    return FieldSealer(EncryptionCodec.from_settings(codec))


def sealed_store(tmp_path: Path, seal: FieldSealer | None) -> IntegrationStore:
    store = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    store.sealer = seal
    return store


def test_a_payee_is_stored_sealed_and_read_back_open(tmp_path: Path) -> None:
    store = sealed_store(tmp_path, sealer())
    read(store, run(), ROWS, [])
    store.store_payees(run().key, [Payee("W3", NAME, "DE01", "COBADEFFXXX", iban=IBAN)])
    with store.engine.connect() as conn:
        raw = conn.execute(text("SELECT name, iban, account_number FROM payroll_payee")).one()
    assert NAME not in str(raw) and IBAN not in str(raw) and raw.account_number is None
    assert all(value.startswith("sealed:v1:") for value in (raw.name, raw.iban))
    found = store.payee(run().key, "W3")
    assert found is not None and (found.name, found.iban) == (NAME, IBAN)
    [(_, due)] = list(store.net_pay_due(run().key, "DE01"))
    assert due is not None and (due.name, due.iban) == (NAME, IBAN)
    with store.engine.connect() as conn:   # reading opened a copy: nothing was written back
        assert conn.execute(text("SELECT iban FROM payroll_payee")).scalar_one() == raw.iban


def test_a_rotated_key_still_opens_what_it_sealed_and_one_removed_does_not(tmp_path: Path) -> None:
    store = sealed_store(tmp_path, sealer())
    store.store_payees(run().key, [Payee("W3", NAME, "DE01", "COBADEFFXXX", iban=IBAN)])
    store.sealer = sealer("k2", k1=K1, k2=K2)
    found = store.payee(run().key, "W3")
    assert found is not None and found.iban == IBAN
    store.sealer = sealer("k2", k2=K2)
    with pytest.raises(CodecError, match="not in the key ring"):
        store.payee(run().key, "W3")


def test_payees_stored_before_sealing_read_as_they_are(tmp_path: Path) -> None:
    store = sealed_store(tmp_path, None)
    store.store_payees(run().key, [Payee("W3", NAME, "DE01", "COBADEFFXXX", iban=IBAN)])
    store.sealer = sealer()
    found = store.payee(run().key, "W3")
    assert found is not None and (found.name, found.iban) == (NAME, IBAN)
