"""Ascend NPU profiler output (msprof, torch_npu, MindSpore): a file or a directory, one Trace per rank.

Nothing is imported here: format detection needs only the light `sniff` module (and its header
vocabulary, `headers`); the reader (`ranks`) and the modules it uses (pyarrow's CSV and compute,
sqlite3, the timeline's decoders) are imported when Ascend input is read.
"""
