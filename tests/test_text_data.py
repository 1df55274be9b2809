"""Sentence-pair data: dates generator, TSV reader, tfds fail-fast, tokenisation."""

import datetime
import re
import time

import numpy as np
import pytest

from keras_genmodels.data import text
from keras_genmodels.data.errors import DataError

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def test_date_generator_is_deterministic_and_correct():
    a, b = text.date_pairs(200, seed=3), text.date_pairs(200, seed=3)
    assert a == b
    assert a != text.date_pairs(200, seed=4)
    for src, tgt in a:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", tgt)
        d = datetime.date.fromisoformat(tgt)
        assert text.DATE_RANGE[0] <= d <= text.DATE_RANGE[1]
        assert str(d.day) in src  # the day number is always written
    d = datetime.date(1991, 3, 5)
    assert text.format_date(d, "{d} {ru_gen} {yyyy} г.") == "5 марта 1991 г."
    assert text.format_date(d, "{en_wd}, {d} {en_month} {yyyy}", "title") == \
        "Tuesday, 5 March 1991"
    assert text.format_date(d, "{dd}.{mm}.{yy}") == "05.03.91"
    assert text.format_date(d, "{ru_wd}, {d} {ru_gen} {yyyy} г.") == "вторник, 5 марта 1991 г."


def test_date_generator_covers_both_languages_and_many_formats():
    pairs = text.date_pairs(2000, seed=0)
    sources = [s.lower() for s, _ in pairs]
    assert sum(bool(CYRILLIC.search(s)) for s in sources) > 400
    assert sum(any(m in s for m in text.EN_MONTHS_SHORT) for s in sources) > 400
    assert sum(bool(re.fullmatch(r"[\d./-]+", s)) for s in sources) > 400
    assert len(set(text.DATE_FORMATS["en"] + text.DATE_FORMATS["ru"]
                   + text.DATE_FORMATS["numeric"])) >= 30
    only_ru = text.date_pairs(100, seed=0, languages=("ru",))
    assert all(CYRILLIC.search(s) for s, _ in only_ru)
    with pytest.raises(DataError, match="expected languages among"):
        text.date_pairs(5, languages=("fr",))


def test_date_split_holds_out_calendar_dates():
    train, test = text.date_split(3000, 300, seed=1)
    assert len(train) == 3000 and len(test) == 300
    assert not {t for _, t in train} & {t for _, t in test}
    assert (train, test) == text.date_split(3000, 300, seed=1)


def test_tsv_reader_reads_pairs_and_ignores_extra_columns(tmp_path):
    path = tmp_path / "rus.txt"
    path.write_text("Go.\tИди.\tCC-BY 2.0 (France) Attribution\n\nHi.\tЗдравствуйте.\n",
                    encoding="utf-8")
    assert text.read_tsv_pairs(path) == [("Go.", "Иди."), ("Hi.", "Здравствуйте.")]
    assert text.read_tsv_pairs(path, source_column=1, target_column=0, max_pairs=1) == \
        [("Иди.", "Go.")]
    out = tmp_path / "pairs.tsv"
    text.write_tsv_pairs([("a b", "c")], out)
    assert text.read_tsv_pairs(out) == [("a b", "c")]


def test_tsv_reader_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        text.read_tsv_pairs(tmp_path / "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\nonly one column\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"expected at least 2 tab-separated columns .* "
                                        r"line 2 .* received 1"):
        text.read_tsv_pairs(bad)
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="at least one sentence pair"):
        text.read_tsv_pairs(empty)
    blank = tmp_path / "blank.tsv"
    blank.write_text("a\t \n", encoding="utf-8")
    with pytest.raises(DataError, match="non-empty source and target on line 1"):
        text.read_tsv_pairs(blank)
    latin1 = tmp_path / "latin1.tsv"
    latin1.write_bytes("caf\xe9\tx\n".encode("latin-1"))
    with pytest.raises(DataError, match="expected utf-8 text"):
        text.read_tsv_pairs(latin1)


def test_tfds_translation_dataset_fails_fast_offline(tmp_path, monkeypatch):
    from keras_genmodels.data import tfds_source

    class Unreachable:
        target = "storage.googleapis.com:443"

        def result(self):
            return False, "no network (test)"

    monkeypatch.setattr(tfds_source, "start_probe", lambda: Unreachable())
    start = time.time()
    with pytest.raises(DataError, match=r"ted_hrlr_translate/ru_to_en.*expected prepared data"):
        text.load_tfds_pairs("ted_hrlr_translate/ru_to_en", data_dir=tmp_path)
    assert time.time() - start < 30
    with pytest.raises(DataError, match="unknown"):
        text.load_tfds_pairs("no_such_translation_set_xyz", data_dir=tmp_path)


def test_tokenisation_and_teacher_forcing_layout():
    vocab = text.build_vocabulary(["aaab", "bc"], level="char")
    assert vocab == ["a", "b", "c"]  # most frequent first
    layer = text.vectorizer(vocab, "char")
    ids, truncated = text.encode_numpy(layer, ["ab", "", "zzzzz", "abcabc"], 4)
    assert ids.dtype == np.int32 and ids.shape == (4, 4)
    np.testing.assert_array_equal(ids[0], [2, 3, 0, 0])  # a=2, b=3 (0 pad, 1 unk)
    np.testing.assert_array_equal(ids[1], [0, 0, 0, 0])
    np.testing.assert_array_equal(ids[2], [1, 1, 1, 1])  # unknown characters -> [UNK]
    np.testing.assert_array_equal(truncated, [False, False, True, True])
    t_in, t_out = text.teacher_forcing_arrays(np.array([[5, 6, 0], [7, 0, 0]]))
    np.testing.assert_array_equal(t_in, [[2, 5, 6, 0], [2, 7, 0, 0]])
    np.testing.assert_array_equal(t_out, [[5, 6, 3, 0], [7, 3, 0, 0]])
    assert text.detokenize_numpy([[4, 5, 3, 4], [0, 0, 0, 0]], ["", "[UNK]", "[START]",
                                                               "[END]", "x", "y"]) == ["xy", ""]
    with pytest.raises(DataError, match="expected .source, target. string pairs"):
        text.check_pairs([("a", 1)])


def test_word_level_tokens_and_load_pairs_dispatch(tmp_path):
    vocab = text.build_vocabulary(["i see you", "you see"], level="word")
    assert set(vocab) == {"i", "see", "you"}
    layer = text.vectorizer(vocab, "word")
    ids, truncated = text.encode_numpy(layer, ["you  see  me"], 3)
    table = ["", "[UNK]"] + vocab
    assert [table[i] for i in ids[0]] == ["you", "see", "[UNK]"] and not truncated[0]
    full = ["", "[UNK]", "[START]", "[END]", "ja", "vizhu"]
    assert text.detokenize_numpy([[4, 5, 3, 4]], full, "word") == ["ja vizhu"]
    path = tmp_path / "pairs.tsv"
    text.write_tsv_pairs([(f"s{i}", f"t{i}") for i in range(30)], path)
    train, test = text.load_pairs(str(path), n_test=5)
    assert len(train) == 27 and len(test) == 3  # held out: at most 10% of a file
    assert not set(train) & set(test)
    with pytest.raises(DataError, match="unknown"):
        text.load_pairs("tfds:no_such_translation_set_xyz", data_dir=tmp_path)
