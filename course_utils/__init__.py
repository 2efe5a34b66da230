"""Helpers for the course "RAG vs Fine-Tuning, hands-on".

Each module holds one idea. They stand in layers, and a module imports only
from the layers below its own, so data flows one way: data -> index ->
retrieve -> prompt -> generate -> evaluate, then the comparisons built on
them (``make lint`` checks it, with the contract in ``pyproject.toml``):

7. report, widgets, exercises, run_course: what the learner sees and runs
6. comparison, claims, literature, tuning, knobs, experiments: every approach on the same questions, the knobs chosen on dev, and what that says;
   below them, workbench (answers for any approach, cached), then approaches (the five approaches and
   the settings that decide their answers)
5. hybrid, scale: RAG with an adapter, RAFT; RAG over a large index
4. rag, adapters: the RAG loop; the adapter cache and the closed-book fine-tune; below them, sources
   (numbered sources and citations) and training
3. retrieval, generation, stopping, lora, checkpoints, evaluation, plots, searches: retrieve, prompt and generate
   (and end an answer), adapt (and resume a training run); score; draw
2. data, models, machine, vectordb, chroma_server, worldgen, world, distractors, kit: the data, the models and the machine
1. config, artifacts, quiet: settings and caches
"""
from . import quiet  # noqa: F401  (hides one library warning in every notebook; see quiet.py)
