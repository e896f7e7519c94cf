"""HD derivation and address checks against the specifications' test vectors (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rotator.config.keys import (
    KeyError_,
    check_bitcoin_address,
    check_evm_address,
    check_solana_address,
    parse_hd,
)

VECTORS = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "chains" / "hd_vectors.json").read_text()
)
BIP84 = VECTORS["bip84_text_fields"]
SLIP132 = VECTORS["slip132_mainnet"]


def test_bip84_zpub_derives_the_spec_receive_and_change_addresses():
    hd = parse_hd(BIP84["xpub"][0])
    assert hd.script == "p2wpkh" and hd.branches == 2
    receive0, receive1, change0 = BIP84["address"]
    assert hd.addresses(0, 0, 2) == [receive0, receive1]
    assert hd.address(1, 0) == change0


@pytest.mark.parametrize("bip", ["bip44", "bip49", "bip84"])
def test_slip132_account_keys_give_their_first_address(bip):
    vector = SLIP132[bip]
    hd = parse_hd(vector["account_xpub"])
    assert hd.address(0, 0) == vector["first_receive_address"]


def test_bip32_vector1_public_child_derivation():
    # bip-0032.mediawiki, test vector 1: ext pub of m/0H, and of its non-hardened child m/0H/1.
    from embit.bip32 import HDKey

    parent = HDKey.from_string(
        "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1"
        "bgwQ9xv5ski8PX9rL2dZXvgGDnw"
    )
    assert parent.derive([1]).to_base58() == (
        "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq5"
        "27Hqck2AxYysAA7xmALppuCkwQ"
    )


BIP86_XPUB = (
    "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECo"
    "Y49yfdDEHGCtMMj92pReUsQ"
)


def test_bip86_taproot_from_xpub_with_script_and_from_descriptor():
    # bip-0086.mediawiki test vectors: account 0 xpub, first receiving address m/86'/0'/0'/0/0.
    first = "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"
    assert parse_hd(BIP86_XPUB, "p2tr").address(0, 0) == first
    desc = parse_hd(f"tr({BIP86_XPUB}/0/*)")
    assert desc.script == "p2tr" and desc.branches == 1
    assert desc.address(0, 0) == first


def test_descriptor_with_receive_and_change_branches():
    zpub_as_xpub = parse_hd(BIP84["xpub"][0]).descriptor
    hd = parse_hd(zpub_as_xpub)
    assert hd.branches == 2
    assert hd.address(1, 0) == BIP84["address"][2]


@pytest.mark.parametrize(
    ("text", "script", "expected"),
    [
        (BIP84["xpriv"][0], None, "PRIVATE"),
        (
            "tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ"
            "76uZPStJRJCTKvosUCJZL5B",
            None,
            "testnet",
        ),
        (BIP84["xpub"][0][:-1] + "t", None, "not a valid"),
        (SLIP132["bip49"]["account_xpub"], "p2wpkh", "script says p2wpkh"),
        ("wpkh(" + BIP84["pubkey"][0] + ")", None, "one extended key"),
        ("foo(bar)", None, "not a valid output descriptor"),
    ],
)
def test_bad_keys_are_refused_with_a_reason(text, script, expected):
    with pytest.raises(KeyError_, match=expected):
        parse_hd(text, script)


def test_bitcoin_address_checks():
    assert check_bitcoin_address(BIP84["address"][0]) == "p2wpkh"
    assert check_bitcoin_address(SLIP132["bip49"]["first_receive_address"]) == "p2sh"
    assert check_bitcoin_address(SLIP132["bip44"]["first_receive_address"]) == "p2pkh"
    with pytest.raises(KeyError_, match="not a valid"):
        check_bitcoin_address(BIP84["address"][0][:-1] + "v")  # bech32 checksum
    with pytest.raises(KeyError_, match="testnet"):
        check_bitcoin_address("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx")
    with pytest.raises(KeyError_, match="testnet"):
        check_bitcoin_address("2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2")


def test_evm_address_checksum():
    good = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
    assert check_evm_address(good.lower()) == good
    with pytest.raises(KeyError_, match="EIP-55"):
        check_evm_address(good.replace("dA", "Da", 1))
    with pytest.raises(KeyError_, match="40 hex"):
        check_evm_address("0x1234")


def test_solana_address_check():
    owner = "7pFGok3zuvacRP797Ke3bUZqbq24PbVQNLvwopfErvih"
    assert check_solana_address(owner) == owner
    with pytest.raises(KeyError_, match="not a valid Solana address"):
        check_solana_address(owner[:-3])


def test_descriptor_checksum_is_verified():
    from embit.descriptor.checksum import add_checksum

    good = add_checksum(f"tr({BIP86_XPUB}/<0;1>/*)")
    assert parse_hd(good).address(0, 0).startswith("bc1p5cyxnu")
    bad = good[:-1] + ("a" if good[-1] != "a" else "b")
    with pytest.raises(KeyError_, match="checksum"):
        parse_hd(bad)
