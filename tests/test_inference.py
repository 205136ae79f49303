"""inference/: the metadata reader, the demo-set warning, paths and rows."""

import json

import pytest

from pear_tf.inference import metadata, paths, rows


def test_a_model_trained_on_the_demo_set_says_so(tmp_path):
    (tmp_path / "1" / "assets").mkdir(parents=True)
    (tmp_path / "1" / "assets" / "pear_metadata.json").write_text(json.dumps({"dataset": "synthetic"}))
    warning = metadata.demo_warning(metadata.read_metadata(str(tmp_path / "1")))
    assert "synthetic demo set" in warning and "Training on real photos" in warning
    assert metadata.demo_warning({"dataset": "aadb"}) is None


def test_a_folder_without_the_metadata_asset_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="not exported by pear_tf"):
        metadata.read_metadata(str(tmp_path))


def test_folders_are_walked_for_images_and_list_files_skip_comments(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/x.JPG", "a/y.png", "a/notes.txt", "z.bmp"):
        (tmp_path / name).write_bytes(b"")
    assert list(paths.expand_paths([str(tmp_path)])) == [str(tmp_path / "z.bmp"), str(tmp_path / "a/x.JPG"),
                                                         str(tmp_path / "a/y.png")]  # fmt: skip
    (tmp_path / "list.txt").write_text("# mine\n\n/p/1.jpg\n  /p/2.jpg  \n")
    assert paths.read_list(str(tmp_path / "list.txt")) == ["/p/1.jpg", "/p/2.jpg"]


def test_rows_sort_best_first_with_errors_last_and_write_csv(tmp_path):
    scored = [{"path": "a", "score": 2.0, "score_std": 0.1, "distribution": [0.5, 0.5]},
              {"path": "b", "error": "could not read"},
              {"path": "c", "score": 3.0, "score_std": 0.2, "distribution": [0.2, 0.8]}]  # fmt: skip
    assert [r["path"] for r in rows.sort_rows(scored, "score")] == ["c", "a", "b"]
    rows.write_rows(scored, str(tmp_path / "out.csv"))
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0].startswith("path,score,score_std,distribution,BalacingElements")
    assert lines[2].endswith("could not read")
    # A calibrated model's outputs: three columns after error (an older model's CSV, above, is unchanged).
    calibrated = [{**scored[0], "calibrated_score": 4.5, "ood_score": 0.2, "is_photo_like": True}, scored[1]]
    rows.write_rows(calibrated, str(tmp_path / "calibrated.csv"))
    lines = (tmp_path / "calibrated.csv").read_text().splitlines()
    assert lines[0].endswith(",error,calibrated_score,ood_score,is_photo_like")
    assert lines[1].endswith(",4.5,0.2,True") and lines[2].endswith("could not read,,,")
    assert "calibrated 4.50 ± 0.10  photo-like" in rows.format_row(calibrated[0], [1, 2])
