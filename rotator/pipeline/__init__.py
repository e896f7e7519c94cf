"""The only package joining the core to the adapters (and the command line's one door to I/O).

run.py       one run, stages 1-6 numbered in its docstring (load, gather, evaluate, choose, plan,
             store)
gather.py    stage 2: declared inputs served by their loaders (`get_loader`), then the accounts
accounts.py  exchange accounts (as frozen adapter settings) and declared wallets
chains.py    chain wallets, read concurrently with the exchange accounts; oracle quotes
chains_check.py  `rotator check`'s lines for chain wallets and oracles
loading.py   what a dataset loader receives and returns
screen.py    the loader of `dataset:revenue_screen`, and `rotator screen`
rules.py     rules on stored history alone (`rotator signals`, the replay bench)
store.py     the storage the command line reads (runs, reports, the run lock, the demo database)
report.py    the daily report after the run: build, write, deliver
backfill.py  `rotator history fetch/import`: fill the market-history store
backtest.py  `rotator backtest`: stages 3-5 of the run replayed day by day on a simulated venue
sweep.py     `rotator backtest --sweep`: grid points on local processes or Dask
"""
