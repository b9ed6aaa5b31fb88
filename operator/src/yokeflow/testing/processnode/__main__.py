"""``python -m yokeflow.testing.processnode``: run a process node until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.testing.processnode.node import NodeConfig, ProcessNode


async def _serve(kubeconfig: Path, config: NodeConfig) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    async with await KubeApi.connect(kubeconfig) as api:
        try:
            await ProcessNode(api, config).run()
        except asyncio.CancelledError:
            logging.getLogger("yokeflow.testing.processnode").info(
                "stopped; every pod's processes are gone"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m yokeflow.testing.processnode", description=__doc__
    )
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--root", type=Path, required=True, help="folder for the pods' files")
    parser.add_argument("--name", default="process-node-0")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(_serve(args.kubeconfig, NodeConfig(name=args.name, root=args.root)))


if __name__ == "__main__":
    main()
