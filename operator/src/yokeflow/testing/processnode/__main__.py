"""``python -m yokeflow.testing.processnode``: run a process node until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import shlex
import signal
from pathlib import Path
from urllib.parse import urlsplit

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.testing.processnode.node import NodeConfig, ProcessNode


async def _serve(kubeconfig: Path, config: NodeConfig) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    async with await KubeApi.connect(kubeconfig) as api:
        server = urlsplit((await api.connection()).server)
        config = dataclasses.replace(
            config, api_server=(server.hostname or "127.0.0.1", server.port or 443)
        )
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
    parser.add_argument(
        "--entrypoint",
        action="append",
        default=[],
        metavar="IMAGE=COMMAND",
        help="run COMMAND where an image's ENTRYPOINT would run, for containers of IMAGE (its"
        " repository, no tag) that name no command; repeatable",
    )
    args = parser.parse_args()
    entrypoints: dict[str, tuple[str, ...]] = {}
    for item in args.entrypoint:
        image, _, command = item.partition("=")
        if not image or not command:
            parser.error(f"--entrypoint {item!r}: expected IMAGE=COMMAND")
        entrypoints[image] = tuple(shlex.split(command))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = NodeConfig(name=args.name, root=args.root, entrypoints=entrypoints)
    asyncio.run(_serve(args.kubeconfig, config))


if __name__ == "__main__":
    main()
