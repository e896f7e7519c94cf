"""Solana: recorded getMultipleAccounts / getTokenAccountsByOwner answers (both token programs)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

from conftest import fixture, read, result_of

from rotator.adapters.chains.solana import TOKEN_2022_PROGRAM, TOKEN_PROGRAM
from rotator.demo.chains import jsonrpc

OWNER = "7pFGok3zuvacRP797Ke3bUZqbq24PbVQNLvwopfErvih"
PUMP = "7KUZ5CoUZfcxYbjLzXT6sgAqo3CZbHxMvzwKGcUtpump"
HV = "Hv69wUkD225TYq111eAar9CtjhNpzBTRFpHkpY3pbonk"
T22 = "7atgF8KQo4wJrD5ATGX7t1V2zVvykPJbFfNeVf1icFv1"
DECIMALS = {PUMP: 6, HV: 9, T22: 2}


def mint_account(decimals: int) -> dict:
    """Composed: an 82-byte SPL Mint account, decimals at byte 44 (spl-token state.rs)."""
    raw = bytearray(82)
    raw[44] = decimals
    raw[45] = 1  # is_initialized
    return {
        "data": [base64.b64encode(bytes(raw)).decode(), "base64"],
        "lamports": 1,
        "owner": TOKEN_PROGRAM,
    }


def handlers(token_answers: dict, lamports: list[int]) -> dict:
    def multiple(params):
        keys = params[0]
        if keys and keys[0] in DECIMALS:
            return {
                "context": {"slot": 406145857},
                "value": [mint_account(DECIMALS[k]) for k in keys],
            }
        value = [
            {"data": ["", "base64"], "lamports": n, "owner": "11111111111111111111111111111111"}
            for n in lamports
        ]
        return {"context": {"slot": 406145854}, "value": value}

    return {
        "getMultipleAccounts": multiple,
        "getTokenAccountsByOwner": lambda p: token_answers[p[1]["programId"]],
    }


def test_recorded_base64_token_accounts_of_both_programs(server):
    answers = {
        TOKEN_PROGRAM: result_of(
            "rpc.getTokenAccountsByOwner.token.base64.7pFGok3z.slot406145856.json"
        ),
        TOKEN_2022_PROGRAM: result_of(
            "rpc.getTokenAccountsByOwner.token2022.base64.7pFGok3z.slot406145856.json"
        ),
    }
    server.add_route("POST /sol", jsonrpc(handlers(answers, [0])))
    tokens = {"PUMP": PUMP, "HV": HV, "T22": T22}
    snap = read(server, "/sol", chain="solana", addresses=[OWNER], tokens=tokens)
    assert snap.ok, snap.problems
    amounts = {h.asset: h.total for h in snap.holdings}
    assert amounts["PUMP"] == Decimal(55689635733).scaleb(-6)
    assert amounts["HV"] == Decimal(233884967632).scaleb(-9)
    assert amounts["T22"] == Decimal(11).scaleb(-2)  # a Token-2022 account (with extensions)
    assert {h.source.block for h in snap.holdings} == {406145854}
    # unknown mints holding something are reported, not counted
    assert any("unknown mint" in p.message for p in snap.problems)
    assert len(server.requests) == 2  # one batch, then the mints' decimals


def test_recorded_sol_balances_of_two_addresses(server):
    empty = {"context": {"slot": 1}, "value": []}
    recorded = result_of("rpc.getMultipleAccounts.base64.updtkJ8H+FkzRQKW8.slot406145854.json")
    lamports = [v["lamports"] for v in recorded["value"]]
    server.add_route(
        "POST /sol", jsonrpc(handlers({TOKEN_PROGRAM: empty, TOKEN_2022_PROGRAM: empty}, lamports))
    )
    addresses = [
        "updtkJ8HAhh3rSkBCd3p9Z1Q74yJW4rMhSbScRskDPM",
        "FkzRQKW8Mzip4xXHamibLZB28sjqN9ZLFacQdbuVEYxa",
    ]
    snap = read(server, "/sol", chain="solana", addresses=addresses)
    assert [h.total for h in snap.holdings] == [Decimal("3.063908962"), Decimal("0.564503502")]
    assert len(server.requests) == 1


def test_several_token_accounts_of_one_mint_are_summed(server):
    recorded = result_of(
        "rpc.getTokenAccountsByOwner.token.jsonParsed.31dpiond.slot44965042.2020-10-28.json"
    )
    second = json.loads(json.dumps(recorded["value"][1]))  # composed: a second account of a mint
    second["pubkey"] = "4fYNw3dojWmQ4dXtSGE9epjRGy9pFSx62YypT7avPYvA"
    second["account"]["data"]["parsed"]["info"]["tokenAmount"]["amount"] = "1000000"
    recorded["value"].append(second)
    empty = {"context": {"slot": 44965042}, "value": []}
    server.add_route(
        "POST /sol", jsonrpc(handlers({TOKEN_PROGRAM: recorded, TOKEN_2022_PROGRAM: empty}, [0]))
    )
    owner = "31dpiondDhZaqK23Re8kzkhY6CFEG9ZTQnr3shQm7g8b"
    snap = read(
        server,
        "/sol",
        chain="solana",
        addresses=[owner],
        tokens={"BQC": "BQcdHdAQW1hczDbBi9hiegXAR7A98Q9jx3X3iBBBDiq4"},
    )
    [h] = [h for h in snap.holdings if h.asset == "BQC"]
    assert h.total == Decimal("22.17783") and h.source.addresses == 2
    assert len(server.requests) == 1  # decimals came with the jsonParsed answer


def test_recorded_error_object_fails_the_wallet(server):
    server.add_route("POST /sol", fixture("rpc.error.invalid_params_32602.solders.json"))
    snap = read(server, "/sol", chain="solana", addresses=[OWNER])
    assert not snap.ok and "-32602" in snap.problems[0].message
