"""Offline address and extended-key handling: validation and HD derivation, by library.

Bitcoin keys, descriptors and addresses go through embit (BIP32, SLIP-0132 xpub/ypub/zpub
versions, output descriptors with checksums, base58check, bech32/bech32m); EVM addresses through
eth-utils (EIP-55 checksums); Solana addresses through solders. Nothing here touches the
network. Every xpub form is turned into one output descriptor, so derivation has one path:

    xpub (BIP44)  -> pkh(xpub/<0;1>/*)         ypub (BIP49) -> sh(wpkh(xpub/<0;1>/*))
    zpub (BIP84)  -> wpkh(xpub/<0;1>/*)        xpub + script p2tr (BIP86) -> tr(xpub/<0;1>/*)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

# SLIP-0132 prefix -> script type. Testnet prefixes are recognised to refuse them clearly.
_PREFIX_SCRIPT = {"xpub": "p2pkh", "ypub": "p2sh-p2wpkh", "zpub": "p2wpkh"}
_TESTNET_PREFIXES = ("tpub", "upub", "vpub", "Upub", "Vpub")
_PRIVATE_PREFIXES = ("xprv", "yprv", "zprv", "tprv", "uprv", "vprv", "Yprv", "Zprv")
_SCRIPT_WRAP = {
    "p2pkh": ("pkh(", ")"),
    "p2sh-p2wpkh": ("sh(wpkh(", "))"),
    "p2wpkh": ("wpkh(", ")"),
    "p2tr": ("tr(", ")"),
}
BIP_OF_SCRIPT = {"p2pkh": "BIP44", "p2sh-p2wpkh": "BIP49", "p2wpkh": "BIP84", "p2tr": "BIP86"}


class KeyError_(ValueError):
    """An address or extended key is invalid (message says why, never echoes a secret)."""


@dataclass(frozen=True)
class HdWallet:
    """An account-level extended public key as an output descriptor with receive/change chains.

    Attributes:
        descriptor: the descriptor text derived from (always mainnet, public keys only).
        script: p2pkh / p2sh-p2wpkh / p2wpkh / p2tr.
        branches: 2 for receive + change (`<0;1>`), 1 for a single-chain descriptor.
    """

    descriptor: str
    script: str
    branches: int

    @cached_property
    def _parsed(self) -> Any:
        from embit.descriptor import Descriptor

        return Descriptor.from_string(self.descriptor)

    def address(self, branch: int, index: int) -> str:
        """The mainnet address at `branch` (0 receive, 1 change) and `index`."""
        from embit.networks import NETWORKS

        derived = self._parsed.derive(index, branch_index=branch)
        return derived.address(NETWORKS["main"])

    def addresses(self, branch: int, start: int, count: int) -> list[str]:
        return [self.address(branch, i) for i in range(start, start + count)]

    @property
    def label(self) -> str:
        chains = "receive and change" if self.branches == 2 else "one chain"
        return f"{BIP_OF_SCRIPT.get(self.script, self.script)} {self.script}, {chains}"


def parse_hd(text: str, script: str | None = None) -> HdWallet:
    """Parse an xpub/ypub/zpub (with optional script override) or an output descriptor.

    Raises:
        KeyError_: bad checksum or encoding, a private key, a testnet key, a script type that
            contradicts the prefix, or a descriptor that is not a single-key wildcard.
    """
    text = text.strip()
    if text.startswith(_PRIVATE_PREFIXES):
        raise KeyError_("is a PRIVATE extended key: give the account's public key (xpub)")
    if "(" in text:
        return _parse_descriptor(text, script)
    if text.startswith(_TESTNET_PREFIXES):
        raise KeyError_("is a testnet key; only Bitcoin mainnet (xpub/ypub/zpub) is read")
    prefix = text[:4]
    if prefix not in _PREFIX_SCRIPT:
        raise KeyError_("must start with xpub, ypub or zpub, or be an output descriptor")
    from embit.base import EmbitError
    from embit.bip32 import HDKey
    from embit.networks import NETWORKS

    try:
        key = HDKey.from_string(text)
    except (EmbitError, ValueError) as exc:
        raise KeyError_(f"is not a valid extended public key ({_why(exc)})") from None
    implied = _PREFIX_SCRIPT[prefix]
    if script is not None and prefix != "xpub" and script != implied:
        raise KeyError_(f"a {prefix} is {implied} ({BIP_OF_SCRIPT[implied]}); script says {script}")
    chosen = script or implied  # an xpub with `script:` (p2tr for BIP86) follows the script
    key.version = NETWORKS["main"]["xpub"]
    head, tail = _SCRIPT_WRAP[chosen]
    return HdWallet(f"{head}{key.to_base58()}/<0;1>/*{tail}", chosen, 2)


def _parse_descriptor(text: str, script: str | None) -> HdWallet:
    from embit.base import EmbitError
    from embit.descriptor import Descriptor
    from embit.descriptor.checksum import add_checksum

    body, hash_sign, _ = text.partition("#")
    if hash_sign and add_checksum(body) != text:  # embit parses without checking it
        raise KeyError_("descriptor checksum (after #) does not match: check for typos")
    try:
        desc = Descriptor.from_string(body)
    except (EmbitError, ValueError, TypeError, IndexError) as exc:
        raise KeyError_(f"is not a valid output descriptor ({_why(exc)})") from None
    if len(desc.keys) != 1 or not desc.is_wildcard:
        raise KeyError_("descriptor must have one extended key ending in /* (or /<0;1>/*)")
    key = desc.keys[0]
    if key.is_private:
        raise KeyError_("descriptor holds a PRIVATE key: use its public form")
    if getattr(key.key, "version", None) is not None:
        from embit.networks import NETWORKS

        if key.key.version not in (NETWORKS["main"]["xpub"],):
            raise KeyError_("descriptor key is not a mainnet xpub")
    if desc.is_taproot:
        kind = "p2tr"
    elif desc.is_pkh and desc.is_wrapped:
        kind = "p2sh-p2wpkh"
    elif desc.is_pkh and desc.is_segwit:
        kind = "p2wpkh"
    elif desc.is_pkh:
        kind = "p2pkh"
    else:
        raise KeyError_("descriptor must be pkh(), sh(wpkh()), wpkh() or tr() of one key")
    if script is not None and script != kind:
        raise KeyError_(f"descriptor is {kind}; script says {script}")
    branches = desc.num_branches
    if branches not in (1, 2):
        raise KeyError_("descriptor may have at most two branches (<0;1>)")
    return HdWallet(body, kind, branches)


def check_bitcoin_address(address: str) -> str:
    """The script type of a mainnet Bitcoin address (p2pkh, p2sh, p2wpkh, p2wsh, p2tr).

    The address must be Bitcoin mainnet's by embit's network parameters: base58 with the
    p2pkh or p2sh version byte, or bech32/bech32m with the `bc` prefix. Another coin's address
    (Litecoin's `L…`, `ltc1…`) or a test network's is refused, never read as Bitcoin.

    Raises:
        KeyError_: bad checksum or encoding, another network's or another coin's address.
    """
    from embit import base58, bech32
    from embit.networks import NETWORKS
    from embit.script import address_to_scriptpubkey

    main = NETWORKS["main"]
    tests = [n for key, n in NETWORKS.items() if key != "main"]
    hrp = bech32.bech32_decode(address)[1]  # (encoding, hrp, data); hrp None if not bech32
    if hrp is not None and hrp.lower() != main["bech32"]:
        hrp = hrp.lower()
        if any(hrp == n["bech32"] for n in tests):
            raise KeyError_(f"is a {hrp}1… testnet address; only Bitcoin mainnet is read")
        raise KeyError_(
            f"has the bech32 prefix {hrp!r}, not Bitcoin mainnet's 'bc' (another coin's "
            "address?); only Bitcoin mainnet is read"
        )
    head, _, data = address.rpartition("1")
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    one_case = data in (data.lower(), data.upper())  # bech32 is all one case
    if hrp is None and head.isalpha() and data and one_case and set(data.lower()) <= set(charset):
        raise KeyError_("is not a valid Bitcoin address (bad bech32 checksum or encoding)")
    if hrp is None:
        try:
            version = base58.decode_check(address)[:1]
        except Exception as exc:  # embit raises several error types on malformed input
            raise KeyError_(f"is not a valid Bitcoin address ({_why(exc)})") from None
        if version not in (main["p2pkh"], main["p2sh"]):
            if any(version in (n["p2pkh"], n["p2sh"]) for n in tests):
                raise KeyError_("is a testnet address; only Bitcoin mainnet is read")
            raise KeyError_(
                f"has the base58 version byte 0x{version.hex()}, not a Bitcoin mainnet one "
                "(another coin's address?); only Bitcoin mainnet is read"
            )
    try:
        spk = address_to_scriptpubkey(address)
        kind = spk.script_type()
    except Exception as exc:  # embit raises several error types on malformed input
        raise KeyError_(f"is not a valid Bitcoin address ({_why(exc)})") from None
    if kind is None:
        raise KeyError_("is not a standard Bitcoin address")
    return str(kind)


def check_evm_address(address: str) -> str:
    """The EIP-55 checksummed form of an EVM address.

    Raises:
        KeyError_: not 20 bytes of hex, or mixed case that fails the EIP-55 checksum.
    """
    from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

    if not is_hex_address(address):
        raise KeyError_("is not an EVM address (0x followed by 40 hex digits)")
    lower_or_upper = address[2:] in (address[2:].lower(), address[2:].upper())
    if not lower_or_upper and not is_checksum_address(address):
        raise KeyError_("fails its EIP-55 checksum (mixed case does not match): check for typos")
    return str(to_checksum_address(address))


def check_solana_address(address: str) -> str:
    """A Solana address (base58 of 32 bytes) in its canonical text.

    Raises:
        KeyError_: not base58 or not 32 bytes.
    """
    from solders.pubkey import Pubkey

    try:
        return str(Pubkey.from_string(address))
    except ValueError as exc:
        raise KeyError_(f"is not a valid Solana address ({_why(exc)})") from None


def _why(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:80]
