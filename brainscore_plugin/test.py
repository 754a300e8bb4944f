import numpy as np
import pytest

import brainscore_vision


@pytest.mark.travis_slow
def test_has_identifier():
    model = brainscore_vision.load_model('tnn_rgc_intermediate')
    assert model.identifier == 'tnn_rgc_intermediate'


@pytest.mark.travis_slow
def test_records_it_over_time():
    model = brainscore_vision.load_model('tnn_rgc_intermediate')
    model.start_recording('IT', [(70, 80), (80, 90)])
    images = np.random.default_rng(0).integers(0, 256, (2, 224, 224, 3),
                                               dtype=np.uint8)
    recording = model.record(images)
    assert recording.values.shape[0] == 2
    assert recording.values.shape[2] == 2
    assert np.isfinite(recording.values).all()
