"""The compiled guide tables: pyx12's own reading of each map, corrected in one place, cached."""

from __future__ import annotations

import io
import json
import shutil
from importlib.resources import files
from pathlib import Path

import pytest
import pyx12.map_if
import pyx12.params

from gateway.synth.x12_835 import Spec, write_835
from gateway.x12.tr3 import Tr3Validator
from gateway.x12.tr3.map_compiler import MAXINT
from gateway.x12.tr3.tables import Composite, Guide, MapDirectory

PYX12_MAPS = Path(str(files("pyx12").joinpath("map")))
MAPS = ("835.5010.X221.A1.xml", "835.4010.X091.A1.xml", "x12.control.00501.xml",
        "x12.control.00401.xml", "999.5010X231.A1.xml")


def pyx12_nodes(node):
    """pyx12's map nodes in its scanning order (loops keep children in ``pos_map``)."""
    for position in sorted(node.pos_map):
        for child in node.pos_map[position]:
            yield child
            if child.is_loop():
                yield from pyx12_nodes(child)


def ours(guide: Guide):
    def walk(node):
        for child in node.children:
            yield child
            if child.is_loop:
                yield from walk(child)
    return list(walk(guide.root))


@pytest.mark.parametrize("map_file", MAPS)
def test_compiled_tables_are_pyx12s_own_reading_of_the_map(map_file, tmp_path):
    guide = MapDirectory(cache_dir=tmp_path).guide(map_file)
    theirs = list(pyx12_nodes(pyx12.map_if.load_map_file(map_file, pyx12.params.params())))
    mine = ours(guide)
    assert len(mine) == len(theirs) > 5
    for node, reference in zip(mine, theirs, strict=True):
        assert (node.id, node.pos, node.usage, node.path) == (
            reference.id, reference.pos, reference.usage, reference.get_path())
        corrected = node.path.endswith("/FOOTER")  # the one correction (repeated PLB)
        if not corrected:
            assert node.max == reference.get_max_repeat(), node.path
        if not node.is_segment:
            continue
        key = reference._resolve_unique_key_field(reference.id, with_qual=False)
        assert node.key == (None if key is None else (key[1], key[2], frozenset(
            c for c in key[0].valid_codes if c is not None))), node.path
        assert [list(r) for r in node.syntax] == reference.syntax
        for spec, ref in zip(node.elements, reference.children, strict=True):
            assert (spec.seq, spec.usage, spec.name) == (ref.seq, ref.usage, ref.name)
            leaves = spec.children if isinstance(spec, Composite) else [spec]
            ref_leaves = ref.children if isinstance(spec, Composite) else [ref]
            for leaf, ref_leaf in zip(leaves, ref_leaves, strict=True):
                assert (leaf.type, leaf.min, leaf.max, leaf.external) == (
                    ref_leaf.data_type, ref_leaf.min_len, ref_leaf.max_len,
                    ref_leaf.external_codes), leaf.refdes
                assert leaf.codes == {c for c in ref_leaf.valid_codes if c is not None}


def test_the_repeated_plb_correction_lifts_only_the_835_footer(tmp_path):
    guide = MapDirectory(cache_dir=tmp_path).guide("835.5010.X221.A1.xml")
    footer = guide.node_at("/ISA_LOOP/GS_LOOP/ST_LOOP/FOOTER")
    header = guide.node_at("/ISA_LOOP/GS_LOOP/ST_LOOP/HEADER")
    assert footer.max == MAXINT and header.max == 1  # a second BPR is still caught
    text = io.StringIO()
    write_835(text, Spec(shape="single-st", payees=3, claims=6, seed=3, plb_rate=1.0))
    assert text.getvalue().count("PLB*") >= 3
    text.seek(0)
    assert Tr3Validator(MapDirectory(cache_dir=tmp_path)).validate(text) == []


def sample(**kwargs) -> io.StringIO:
    out = io.StringIO()
    write_835(out, Spec(**kwargs))
    out.seek(0)
    return out


def test_tables_are_cached_and_compiled_again_when_the_map_changes(tmp_path):
    maps, cache = tmp_path / "maps", tmp_path / "cache"
    shutil.copytree(PYX12_MAPS, maps)
    MapDirectory(maps, cache).guide("835.5010.X221.A1.xml")
    (first,) = cache.glob("835.5010.X221.A1.xml.*.json")
    assert json.loads(first.read_text())["id"] == "835W1"
    # Cached: a second directory reads the table instead of compiling it.
    stamp = first.stat().st_mtime_ns
    assert MapDirectory(maps, cache).guide("835.5010.X221.A1.xml").id == "835W1"
    assert first.stat().st_mtime_ns == stamp
    # A changed map (2110 CAS may repeat at most 2 times) is compiled afresh and used.
    xml = (maps / "835.5010.X221.A1.xml").read_text(encoding="utf-8")
    at = xml.index("<name>Service Adjustment</name>")
    xml = xml[:at] + xml[at:].replace("<max_use>99</max_use>", "<max_use>2</max_use>", 1)
    (maps / "835.5010.X221.A1.xml").write_text(xml, encoding="utf-8")
    changed = MapDirectory(maps, cache)
    text = sample(payees=1, claims=1, seed=5, compound_rate=0, dir_rate=0).getvalue()
    cas_at = text.index("CAS*", text.index("SVC*"))
    line_end = text.index("\n", cas_at) + 1
    cas = text[cas_at:line_end]
    text = text[:line_end] + cas + cas + text[line_end:]
    findings = Tr3Validator(changed).validate(io.StringIO(text))
    assert findings and {f.code for f in findings} == {"tr3-segment-repeats"}
    assert len(list(cache.glob("835.5010.X221.A1.xml.*.json"))) == 2
    assert Tr3Validator(MapDirectory(cache_dir=cache)).validate(io.StringIO(text)) == []


def test_an_unwritable_cache_still_validates(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    validator = Tr3Validator(MapDirectory(cache_dir=blocked / "tr3"))
    assert validator.validate(sample(payees=1, claims=2)) == []
