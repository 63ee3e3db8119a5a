"""The floor of faxprint's own stack: import requests and pypdf, count pages, post once.

python bench/floor.py URL DOCUMENT
python bench/floor.py URL < DOCUMENT     (spools stdin first, as a CUPS backend must)
"""

import shutil
import sys
import tempfile

import pypdf
import requests

url = sys.argv[1]
with tempfile.TemporaryFile() as spool:
    with open(sys.argv[2], "rb") if len(sys.argv) > 2 else sys.stdin.buffer as source:
        shutil.copyfileobj(source, spool)
    spool.seek(0)
    pages = len(pypdf.PdfReader(spool).pages)
    spool.seek(0)
    fields = {"Username": "15555550100", "Password": "sandbox", "Recipient": "5556465589",
              "Coverpage": "Default", "Resolution": "Low"}  # fmt: skip
    files = {"Attachment": ("doc.pdf", spool, "application/pdf")}
    answer = requests.post(url, data=fields, files=files, timeout=60)
sys.exit(0 if pages and answer.text.strip() == "0" else 1)
