"""Sample and synthetic workbooks (样例与合成报送文件).

- :mod:`jixiao.samples.forms`: writers for the 自评表 / 指标评分表 layouts (and ledgers)
- :mod:`jixiao.samples.ledger`: the flat ledger writer (台账)
- :mod:`jixiao.samples.demo`: :func:`~jixiao.samples.demo.build_demo_inbox`, the seed documents'
  real figures as departmental submissions
- :mod:`jixiao.samples.synth`: :func:`~jixiao.samples.synth.generate`, seeded synthetic data
- :mod:`jixiao.samples.bad_inputs`: :func:`~jixiao.samples.bad_inputs.write_all`, one file per
  bad-input class
"""
