"""Seeded, realistic review stream for the fictional UPI app PayNest.

``python -m demo.generate`` writes JSONL in the review-in contract: English feedback across the app's
labels, Hinglish / Hindi / Spanish, noise and spam, competitor mentions, an incident after the 4.12.0
release (payments freeze on "Processing" after the UPI PIN, error PN-417: a failure the everyday stream never
reports), an OTP outage, and ~1% malformed lines that validation must reject.
Randomness comes only from ``random.Random(seed)``: the same arguments give byte-identical output.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DEFAULT_APP = Path(__file__).parent / "apps" / "paynest.json"
IST = timezone(timedelta(hours=5, minutes=30))

# ── schedule, in days of a 28-day stream (scaled to --days) ───────────────────────────────────────
BASE_DAYS = 28
RELEASES = [("4.10.2", 0.0, 1.0), ("4.11.0", 5.5, 3.0), ("4.12.0", 16.5, 2.0), ("4.12.1", 19.2, 0.8)]
ADOPTION_CAP = 0.9  # (version, release day, ramp days); 10% of users lag one version behind
INCIDENT = (16.7, 19.2)  # payments freeze after the PIN from soon after 4.12.0 until the 4.12.1 hotfix
INCIDENT_VERSION = "4.12.0"
OTP_SPIKE = (9.35, 9.8)  # SMS gateway trouble one morning and afternoon
SPAM_CAMPAIGN = (11.0, 13.0)
# IST hour-of-day weights: quiet nights, busy evenings
HOUR_WEIGHTS = [.6, .3, .2, .15, .15, .3, .6, 1, 1.4, 1.6, 1.7, 1.7, 1.8, 1.8, 1.7, 1.7, 1.8, 2, 2.4, 2.8, 3, 3,
                2.4, 1.4]

# ── mix: share of lines per kind (feedback takes the remainder) and (play, app store, twitter) ────
SHARES = {"hinglish": .08, "hindi": .04, "spanish": .02, "noise": .155, "spam_referral": .02,
          "spam_repeat": .025, "competitor": .06, "incident": .055, "otp_spike": .012, "malformed": .01}
SOURCES = ("google_play", "app_store", "twitter")
SOURCE_MIX = {"feedback": (68, 22, 10), "hinglish": (75, 15, 10), "hindi": (85, 10, 5), "spanish": (60, 30, 10),
              "noise": (76, 24, 0), "spam_referral": (90, 10, 0), "spam_repeat": (95, 5, 0),
              "competitor": (45, 15, 40), "incident": (60, 20, 20), "otp_spike": (70, 20, 10),
              "malformed": (80, 20, 0)}
RATINGS = {"neg": ((1, 2, 3), (70, 24, 6)), "req": ((2, 3, 4, 5), (10, 35, 40, 15)),
           "pos": ((3, 4, 5), (5, 25, 70)), "mix": ((2, 3, 4), (25, 45, 30)), "inc": ((1, 2, 3), (82, 14, 4)),
           "spam": ((5, 4, 1), (85, 10, 5))}

# ── slot values ───────────────────────────────────────────────────────────────────────────────────
AMOUNTS = [49, 99, 149, 199, 239, 299, 499, 500, 666, 999, 1000, 1200, 1500, 2000, 2500, 3000, 4999, 5000,
           7500, 10000, 12350, 25000]
AMOUNT_FORMATS = ["₹{v:,}", "₹{v}", "Rs {v}", "Rs.{v}", "{v} rs", "INR {v}"]
BANKS = ["SBI", "HDFC", "ICICI", "Axis", "Kotak", "PNB", "Bank of Baroda", "Canara", "Union Bank", "IDFC First"]
WHENS = ["yesterday", "this morning", "last night", "on Sunday", "2 days ago", "this evening",
         "at 9 pm yesterday", "during the sale", "on the 1st of the month"]
MERCHANTS = ["a shopkeeper", "Swiggy", "Zomato", "my landlord", "the petrol pump", "a vegetable vendor",
             "Flipkart", "the milkman", "my friend", "a medical store"]
DEVICES = ["Redmi Note 12", "Samsung M31", "iPhone 13", "Realme 9", "Vivo Y21", "OnePlus Nord", "Poco X5"]
OPERATORS = ["Jio", "Airtel", "Vi", "BSNL"]
BOARDS = ["BESCOM", "MSEDCL", "Tata Power", "TNEB", "UPPCL", "BSES"]
DTHS = ["Tata Play", "Dish TV", "Airtel DTH", "Sun Direct"]

# ── English feedback: label → review type → core phrases ─────────────────────────────────────────
EN: dict[str, dict[str, list[str]]] = {
    "payments": {
        "bug": ["payment of {amt} failed but the money got debited from my {bank} account",
                "paid {amt} to {merchant}, amount debited but not credited to the receiver",
                "UPI transaction stuck in pending for {hrs} hours",
                "money deducted twice for a single payment of {amt}",
                "every QR scan payment shows transaction declined even though I have balance",
                "sent {amt} to my brother {when}, it says successful but he never received it",
                "bank server error on every UPI payment since {when}",
                "payment to {merchant} failed three times, so embarrassing at the counter"],
        "request": ["please add an option to schedule UPI payments", "please show the UTR number on the receipt",
                    "would be great if I could set a daily limit for UPI payments",
                    "please add UPI Lite for small payments without PIN"],
        "praise": ["UPI payments go through in seconds, even at small shops", "scan and pay works perfectly every time",
                   "sending money to family is super easy"],
        "experience": ["I pay {merchant} with it daily and it mostly works, a bit slow on weekends",
                       "payments are fine but the success screen takes too long to appear"]},
    "refunds": {
        "bug": ["refund of {amt} for a failed transaction not received even after {days} days",
                "my {merchant} order was cancelled but the refund is still not credited",
                "they say the amount will be reversed in 3-5 working days, it has been {days} days",
                "refund shows processed but it is not reflecting in my {bank} account",
                "auto reversal never happened for the {amt} transaction",
                "raised a refund request {days} days ago, status still in progress"],
        "request": ["please show refund status with an expected date", "would be great to track refunds in the history",
                    "add a button to raise a refund request directly"],
        "praise": ["got my refund within an hour, impressed", "refunds are quick, {amt} was back the same day"],
        "experience": ["refund came back eventually after {days} days but there were no updates in between"]},
    "login_otp": {
        "bug": ["OTP not received on my {operator} number, cannot log in",
                "app keeps asking to re-enter UPI PIN and then says incorrect PIN",
                "logged out automatically and the OTP never arrives",
                "fingerprint login stopped working, have to type the passcode every time",
                "resend OTP button does nothing, stuck on the verification screen",
                "OTP comes after 10 minutes and has already expired"],
        "request": ["please add face unlock for login", "would be great if the OTP was read automatically",
                    "add an option to log in with email when SMS is not working"],
        "praise": ["login with fingerprint is quick and smooth", "OTP arrives instantly, setup took 2 minutes"],
        "experience": ["login works but I have to verify OTP way too often"]},
    "kyc_account": {
        "bug": ["my account got blocked without any reason, KYC was already done",
                "KYC verification failed three times even with correct Aadhaar and PAN",
                "unable to link my {bank} account, it says bank not supported",
                "video KYC keeps disconnecting midway", "account under review for {days} days, can't send money",
                "cannot change my registered mobile number, bank account stuck"],
        "request": ["please allow linking more than one bank account",
                    "would be great if KYC status showed what is still pending",
                    "add an option to choose a primary bank account"],
        "praise": ["KYC done in 5 minutes, very smooth", "linking my {bank} account was effortless"],
        "experience": ["bank linking took a few attempts but finally worked"]},
    "rewards_cashback": {
        "bug": ["no cashback received on my bill payment, the offer said guaranteed",
                "scratch card always says better luck next time",
                "cashback credited as a voucher instead of money, misleading",
                "reward points expired without any notice", "cashback of {amt} shows pending for {days} days"],
        "request": ["please bring back real cashback instead of coupons",
                    "would be great to have rewards on small UPI payments",
                    "show the reward terms before the payment"],
        "praise": ["got {amt} cashback on my first recharge, nice offer", "scratch cards actually give money, love it"],
        "experience": ["rewards used to be good, now it is mostly useless coupons"]},
    "bills_recharge": {
        "bug": ["recharge done but the plan is not activated on my {operator} number",
                "electricity bill payment to {board} shows paid but the board says unpaid",
                "FASTag recharge not reflecting, got charged double at the toll",
                "DTH recharge for {dth} successful in the app but channels still off",
                "cannot fetch my {board} bill, it says biller unavailable", "recharge plans shown are outdated"],
        "request": ["please add reminders for electricity bill dates", "add autopay for {operator} prepaid recharge",
                    "would be great to book a gas cylinder here"],
        "praise": ["recharge and bills in one place, super convenient", "FASTag recharge is instant, saves time"],
        "experience": ["I pay my {board} bill here every month, works most of the time"]},
    "performance": {
        "bug": ["app crashes as soon as I open it", "very slow, takes 20 seconds to load the home screen",
                "app hangs on the payment screen and I have to force close it", "drains my battery even in background",
                "keeps showing something went wrong on my {device}", "the update broke the app, blank white screen",
                "app size is too big and it lags on my {device}"],
        "request": ["please make a lite version for low end phones", "would be great if the app opened faster"],
        "praise": ["app is fast and light, no lag on my {device}", "much smoother after the latest update"],
        "experience": ["works fine on wifi but very slow on mobile data"]},
    "customer_support": {
        "bug": ["customer care number is always busy, no human support",
                "raised a complaint {days} days ago and got no reply from support",
                "the chatbot only gives the same useless answers",
                "support closed my ticket without solving the issue",
                "emailed support three times, only auto generated replies"],
        "request": ["please add a call back option from customer care",
                    "would be great to chat with a real person",
                    "please share a ticket number when we raise a complaint"],
        "praise": ["support team solved my issue in one call, thank you", "chat support was polite and helpful"],
        "experience": ["support replied after {days} days, problem solved finally"]},
    "ui_ux": {
        "bug": ["too many ads and pop ups on the home screen", "new design is confusing, can't find the scan button",
                "notifications every hour about loans, so annoying", "transaction history is hard to search",
                "font is too small and the colours are dull"],
        "request": ["please add dark mode", "would be great to hide the loan offers banner",
                    "let us customise the home screen shortcuts", "please add an option to download statements as PDF"],
        "praise": ["clean and simple design, easy for my parents", "love the new dark mode"],
        "experience": ["the new layout took a while to get used to"]},
    "security_fraud": {
        "bug": ["got a scam call pretending to be PayNest support asking for my UPI PIN",
                "unauthorized transaction of {amt} from my account, I did not do it",
                "received a fake collect request and almost lost money",
                "someone changed my UPI PIN without my knowledge",
                "a fraudster took {amt} using a QR code trick, no help from the app"],
        "request": ["please warn before approving collect requests from unknown numbers",
                    "add an option to block a UPI ID", "would be great to freeze the account instantly from the app"],
        "praise": ["the fraud alert warned me before a suspicious payment, thank you",
                   "feels safe, always asks for the PIN"],
        "experience": ["the app blocked a suspicious request, a bit scary but good"]},
}
LABEL_WEIGHTS = {"payments": 1.6, "refunds": 1.0, "login_otp": 1.0, "kyc_account": 0.9, "rewards_cashback": 1.0,
                 "bills_recharge": 1.0, "performance": 1.1, "customer_support": 0.8, "ui_ux": 0.9,
                 "security_fraud": 0.7}
TYPE_WEIGHTS = {"bug": 50, "request": 20, "praise": 20, "experience": 10}
TYPE_SENTIMENT = {"bug": "neg", "request": "req", "praise": "pos", "experience": "mix"}
OPENERS = {"bug": ["Worst experience.", "Very disappointed.", "Hi team,", "Pathetic app.", "Seriously?",
                   "Not happy.", "Been using this for 2 years but now", "Frustrating.", "Please help,"],
           "request": ["Good app overall.", "Suggestion:", "Request to the team:", "Nice app but", "One small thing,"],
           "praise": ["Amazing!", "Great app.", "Honestly", "Very happy.", "Best UPI app."],
           "experience": ["Mixed feelings.", "Okay app.", "Using it for a year now."]}
DETAILS = ["This happened {when}.", "Tried {n} times.", "Using {device}.", "Transaction id {txn}.",
           "My bank is {bank}.", "Happened {when} as well.", "Already updated to the latest version."]
CONTEXT = ["I have been using PayNest for all my daily payments, groceries and bills since last year.",
           "I run a small shop and most of my customers pay by UPI, so this matters a lot to me.",
           "My parents also use this app, so I am writing this on their behalf too.",
           "I use PayNest for almost everything, from rent to groceries to my phone bill."]
CLOSERS = {"bug": ["Please fix asap.", "Fix it or I will uninstall.", "1 star until this is resolved.",
                   "No response from support either.", "Very bad.", "Please look into this.", "Totally unacceptable!!",
                   "Uninstalling."],
           "request": ["Would give 5 stars then.", "Thanks.", "Hope you add it soon.", "Otherwise good app."],
           "praise": ["Keep it up!", "Highly recommended.", "5 stars.", "Thank you PayNest team.", "👍"],
           "experience": ["Hope it improves.", "Overall ok."]}
SLANG = {"please": "plz", "you": "u", "money": "mony", "because": "bcoz", "very": "vry", "received": "recieved",
         "transaction": "transection", "account": "acount", "the": "d", "are": "r"}

# ── other languages, noise, spam: sentiment → texts ──────────────────────────────────────────────
HINGLISH = {
    "neg": ["payment fail ho gaya aur paise kat gaye {amt}", "refund abhi tak nahi aaya {days} din ho gaye",
            "OTP nahi aa raha, login nahi ho raha", "bahut bekar app hai, har baar server error",
            "cashback kab milega? {days} din se pending hai", "recharge kiya par plan activate nahi hua",
            "app bahut slow hai, hang ho jata hai", "customer care se koi baat hi nahi hoti",
            "KYC ho gaya phir bhi account block kar diya",
            "{bank} account link nahi ho raha, bank not supported bol raha",
            "paise bheje the {merchant} ko, debit ho gaye par unko mile nahi",
            "fraud call aaya tha PayNest ke naam pe, sab log dhyan rakho", "update ke baad app khul hi nahi raha",
            "bill payment ho gaya par {board} me show nahi ho raha",
            "scratch card me hamesha better luck next time, bakwas",
            "ads bahut zyada hai yaar", "UPI PIN galat bata raha hai jabki sahi daala"],
    "pos": ["mast app hai bhai, payment turant ho jata hai", "bahut accha app hai, sab kuch ek jagah",
            "badiya app hai, cashback bhi milta hai"],
    "req": ["dark mode add karo please", "split bill wala feature daalo na"]}
HINDI = {
    "neg": ["भुगतान विफल हो गया लेकिन पैसे कट गए", "रिफंड अभी तक नहीं आया", "ओटीपी नहीं आ रहा है, लॉगिन नहीं हो रहा",
            "कैशबैक नहीं मिला", "ऐप बहुत धीमा है और बार बार बंद हो जाता है", "ग्राहक सेवा से कोई जवाब नहीं मिला",
            "केवाईसी पूरा होने के बाद भी खाता ब्लॉक है", "मेरे खाते से बिना अनुमति के {amt} कट गए",
            "मोबाइल रिचार्ज हुआ पर प्लान चालू नहीं हुआ", "अपडेट के बाद ऐप नहीं खुल रहा"],
    "pos": ["बहुत अच्छा ऐप है, पेमेंट तुरंत हो जाता है", "बिजली का बिल जमा हो गया, बहुत आसान", "सबसे अच्छा यूपीआई ऐप"],
    "req": ["कृपया डार्क मोड जोड़ें"]}
SPANISH = {
    "neg": ["El pago falló pero me cobraron el dinero", "Todavía no recibo mi reembolso después de {days} días",
            "No me llega el código OTP para iniciar sesión", "La aplicación se cierra sola después de la actualización",
            "El servicio al cliente nunca responde", "Me bloquearon la cuenta sin motivo",
            "Demasiada publicidad en la pantalla principal", "No recibí el cashback prometido",
            "Hubo un cargo no autorizado de {amt} en mi cuenta"],
    "pos": ["Muy buena aplicación, los pagos son rápidos", "Excelente app, fácil de usar"],
    "req": ["Por favor agreguen modo oscuro"]}
SHORT = {
    "pos": ["good app", "nice", "super app 5 star", "very good", "best app", "Good", "nice app 👍", "excellent",
            "awesome", "superb", "very nice app", "good 👍", "Best UPI app", "nice service", "Nice"],
    "mix": ["ok", "good", "average"],
    "neg": ["bad", "worst app", "bakwas app", "useless", "sad"]}
EMOJI = {"pos": ["👍", "🙏", "❤️", "😍", "🔥", "👌", "💯", "⭐"], "neg": ["😡", "👎", "🤬", "😤"]}
KEY_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
REFERRAL = ["use my referral code {code} get ₹{bonus} cashback",
            "Join PayNest with code {code} 🤑 get ₹{bonus} instantly",
            "refer code {code} 100% working, ₹{bonus} on first UPI payment!!",
            "Download PayNest use code {code} and earn ₹{bonus}"]
REPEATED_SPAM = ["Earn ₹5000 daily from home 💰💰 no investment, WhatsApp 98XXXXXX21 for details",
                 "FREE ₹500 PayNest cashback loot!! open link in bio and claim fast before offer ends 🔥🔥"]

# The 4.12.0 incident is a new failure, not a burst of the everyday complaints above: after the UPI PIN the
# payment freezes on "Processing" and ends with error PN-417, no money taken. No baseline text says so.
INCIDENT_EN = ["after updating to 4.12.0 the payment is stuck on Processing once I enter the PIN, version 4.11 "
               "worked fine",
               "since the 4.12.0 update the payment sits on 'Processing...' after the PIN and then says PN-417 "
               "payment could not be completed",
               "PN-417 'payment could not be completed' every time after I enter the PIN, started with 4.12.0, "
               "cleared cache, no use",
               "tried to pay {merchant} {amt}, entered the PIN and it was stuck on Processing for 2 minutes, then PN-417",
               "4.12.0 is broken, the payment never goes past the Processing screen once I type the PIN",
               "my payment to {merchant} was stuck on Processing {n} times after the PIN, had to pay cash, it started "
               "with the 4.12.0 update",
               "what is error PN-417? my payment gets stuck on Processing after the PIN since I updated to 4.12.0",
               "since the 4.12.0 update my payment is stuck on Processing after the UPI PIN, the spinner just keeps "
               "going",
               "payment fails with error PN417 after the PIN since updating to 4.12.0, reinstalled twice, still the same",
               "new version 4.12.0: the payment is stuck on Processing after the PIN and nothing is debited, it just "
               "times out",
               "after the PIN the payment goes to Processing and stays there, then 'PN-417: payment could not be "
               "completed'. Only since 4.12.0",
               "cannot pay anyone since 4.12.0, the payment hangs on Processing after the PIN and times out with PN-417"]
INCIDENT_HI = ["4.12.0 update ke baad UPI PIN daalte hi payment Processing pe atak jata hai",
               "naye update ke baad har payment me PN-417 error aa raha hai, PIN daalne ke baad",
               "PIN daalne ke baad payment Processing me hi ruka rehta hai, {merchant} ko payment nahi ho paya",
               "update kiya tab se payment nahi ho raha, PIN ke baad bas Processing Processing dikhata hai"]
# After the 4.12.1 hotfix: users still on 4.12.0 (their store has not offered them the update yet)
INCIDENT_AFTER = ["still on 4.12.0 as the update is not showing for my {device}, payment still stuck on Processing "
                  "after the PIN",
                  "heard 4.12.1 fixes PN-417 but I am still on 4.12.0 and the payment still stops at Processing after "
                  "the PIN"]
INCIDENT_CLOSERS = ["Please fix asap!!", "Worst update ever.", "Roll back the update.", "Is anyone else facing this?",
                    "Not again!"]
OTP_SPIKE_TEXTS = {"neg": ["OTP not received on {operator} number since morning", "not getting OTP, can't log in",
                           "OTP not coming, tried {n} times", "otp nahi aa raha subah se",
                           "login OTP never arrives, is the server down?",
                           "no OTP for the last {n} hours, stuck on the verification screen"]}
COMPETITOR = {"req": ["{comp} has {feature}, please add it", "why is there no {feature}? even {comp} has it",
                      "please add {feature} like {comp}", "{comp} me {feature} hai, yaha kab aayega?"],
              "neg": ["switching to {comp} because payments keep failing here", "{comp} is faster than this app",
                      "moved back to {comp}, too many ads here", "{comp} gives better cashback than this"],
              "pos": ["better than {comp}, cashback is real here", "used {comp} for years, PayNest is smoother"]}
COMPETITOR_FEATURES = {"Google Pay": ["split bill", "tap to pay with NFC", "group bill splitting"],
                       "PhonePe": ["UPI Lite", "an insurance section", "a share market section"],
                       "Paytm": ["a wallet", "movie ticket booking", "FASTag purchase"],
                       "Amazon Pay": ["pay later", "shopping cashback"],
                       "BHIM": ["an ad-free home screen", "a very simple interface"],
                       "CRED": ["credit card bill reminders", "rewards on credit card payments"]}
FIRST = ["Rahul", "Priya", "Amit", "Sneha", "Arjun", "Pooja", "Vikram", "Anjali", "Rohit", "Neha", "Suresh", "Kavya",
         "Imran", "Fatima", "Harpreet", "Deepak", "Lakshmi", "Karthik", "Meera", "Sanjay", "Ayesha", "Manoj", "Divya",
         "Ravi", "Gurpreet", "Nikhil", "Swati", "Arun", "Bhavna", "Joseph"]
LAST = ["Sharma", "Verma", "Patel", "Reddy", "Nair", "Singh", "Khan", "Iyer", "Das", "Gupta", "Yadav", "Joshi",
        "Menon", "Kumar", "Shaikh", "Banerjee"]


@dataclass
class _Draft:
    """One line before ids are assigned: `at` is days since `start` (IST midnight)."""

    at: float
    kind: str
    text: str
    rating: int
    source: str
    version: str | None = None  # forced app version; otherwise from the rollout
    lang: str | None = None
    defect: int | None = None  # malformed variant, see _corrupt


# ── small text helpers ────────────────────────────────────────────────────────────────────────────
def _fill(rng: random.Random, template: str) -> str:
    """Fill `{slot}`s with random amounts, banks, times, devices, …"""
    slots = {"amt": rng.choice(AMOUNT_FORMATS).format(v=rng.choice(AMOUNTS)), "bank": rng.choice(BANKS),
             "when": rng.choice(WHENS), "merchant": rng.choice(MERCHANTS), "device": rng.choice(DEVICES),
             "operator": rng.choice(OPERATORS), "board": rng.choice(BOARDS), "dth": rng.choice(DTHS),
             "days": rng.randint(3, 21), "hrs": rng.randint(2, 30), "n": rng.randint(3, 6),
             "txn": f"T{rng.randrange(10**11, 10**12)}"}
    return template.format(**slots)


def _join(parts: list[str], opener: str = "") -> str:
    """Join sentences, ending bare phrases with a full stop; an opener like "Nice app but" runs on."""
    out = ""
    for part in filter(None, parts):
        if part[-1].isalnum():
            part += "."
        if not out or out[-1] in ".!?":
            part = part[0].upper() + part[1:]
        out = f"{out} {part}" if out else part
    if opener and out:
        if opener[-1] not in ".!?" and out[1:2].islower():
            out = out[0].lower() + out[1:]
        out = f"{opener} {out}"
    return out


def _roughen(rng: random.Random, text: str, angry: bool = False, slang: bool = True) -> str:
    """Add the usual store-review noise: caps, lower case, SMS spellings, a swapped letter."""
    if angry and rng.random() < 0.05:
        return text.upper()
    if rng.random() < 0.3:
        text = text.lower()
    if slang and rng.random() < 0.2:
        text = " ".join(SLANG.get(w, w) for w in text.split(" "))
    if rng.random() < 0.1:
        words = text.split(" ")
        long_words = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
        if long_words:
            i = rng.choice(long_words)
            j = rng.randrange(len(words[i]) - 1)
            w = words[i]
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
            text = " ".join(words)
    if rng.random() < 0.1:
        text = text.rstrip(".") + rng.choice(["", "..", "!!!", " 😡" if angry else " 🙂"])
    return text


def _rating(rng: random.Random, sentiment: str) -> int:
    values, weights = RATINGS[sentiment]
    return rng.choices(values, weights)[0]


# ── builders: one per kind, each returns (text, sentiment) ────────────────────────────────────────
def _feedback(rng: random.Random) -> tuple[str, str]:
    """Compositional English feedback: opener + core (+ context, second core, detail) + closer."""
    label = rng.choices(list(LABEL_WEIGHTS), list(LABEL_WEIGHTS.values()))[0]
    rtype = rng.choices(list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values()))[0]
    pool = EN[label][rtype]
    long = rng.random() < 0.12
    cores = rng.sample(pool, min(2 if long else 1, len(pool)))
    opener = rng.choice(OPENERS[rtype]) if rng.random() < 0.4 else ""
    parts = [rng.choice(CONTEXT)] if long else []
    parts += [_fill(rng, c) for c in cores]
    if rtype == "bug" and (long or rng.random() < 0.35):
        parts.append(_fill(rng, rng.choice(DETAILS)))
    if long or rng.random() < 0.45:
        parts.append(rng.choice(CLOSERS[rtype]))
    return _roughen(rng, _join(parts, opener), angry=rtype == "bug"), TYPE_SENTIMENT[rtype]


def _pick(rng: random.Random, table: dict[str, list[str]]) -> tuple[str, str]:
    """A random (text, sentiment) from a sentiment → texts table, slots filled."""
    text, sentiment = rng.choice([(t, s) for s, texts in table.items() for t in texts])
    return _fill(rng, text), sentiment


def _noise(rng: random.Random) -> tuple[str, str]:
    """Short generic praise/blame, emoji-only, or keyboard gibberish."""
    r = rng.random()
    if r < 0.78:
        text, sentiment = _pick(rng, SHORT)
        return (text.lower() if rng.random() < 0.3 else text), sentiment
    if r < 0.9:
        sentiment = "pos" if rng.random() < 0.8 else "neg"
        return "".join(rng.choice(EMOJI[sentiment]) * rng.randint(1, 3) for _ in range(rng.randint(1, 2))), sentiment
    words = []
    for _ in range(rng.randint(1, 3)):
        row = rng.choice(KEY_ROWS)
        k = rng.randrange(len(row) - 2)
        words.append(row[k:k + rng.randint(2, 6)])
    return " ".join(words), rng.choice(["pos", "mix", "neg"])


def _referral(rng: random.Random) -> tuple[str, str]:
    code = "PN" + "".join(rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(4))
    return rng.choice(REFERRAL).format(code=code, bonus=rng.choice([50, 100, 150, 201])), "spam"


def _competitor(rng: random.Random, competitors: list[dict[str, Any]], tweet: bool) -> tuple[str, str]:
    """Comparison or feature request naming a competitor by name, alias or hashtag."""
    comp = rng.choice(competitors)
    if rng.random() < (0.6 if tweet else 0.15):
        mention = rng.choice(comp["hashtags"])
    else:
        mention = comp["name"] if rng.random() < 0.55 else rng.choice(comp["aliases"])
    template, sentiment = rng.choice([(t, s) for s, texts in COMPETITOR.items() for t in texts])
    feature = rng.choice(COMPETITOR_FEATURES.get(comp["name"], ["better offers"]))
    return _roughen(rng, _join([template.format(comp=mention, feature=feature)])), sentiment


def _incident(rng: random.Random, after_hotfix: bool) -> tuple[str, str]:
    """Complaint about the 4.12.0 payment freeze (PN-417), during the incident or from a user still on 4.12.0
    after the hotfix."""
    if after_hotfix and rng.random() < 0.5:
        core = rng.choice(INCIDENT_AFTER)
    else:
        core = rng.choice(INCIDENT_HI if rng.random() < 0.15 else INCIDENT_EN)
    closer = rng.choice(INCIDENT_CLOSERS) if rng.random() < 0.5 else ""
    return _roughen(rng, _join([_fill(rng, core), closer]), angry=True), "inc"


def _tweetify(rng: random.Random, text: str, name: str, kind: str) -> str:
    """Turn a review into a tweet with @mentions and hashtags."""
    handle = rng.choice([f"@{name}India", f"@{name}Cares"])
    text = f"{handle} {text}" if rng.random() < 0.6 else f"{text} {handle}"
    tags = [f"#{name}"] if rng.random() < 0.5 else []
    tags += ["#UPI"] if rng.random() < 0.2 else []
    tags += [f"#{name}Down"] if kind in ("incident", "otp_spike") and rng.random() < 0.5 else []
    return " ".join([text, *tags])[:280]


def _author(rng: random.Random, source: str) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if source == "twitter":
        return f"@{first.lower()}_{last[0].lower()}{rng.randint(1, 99)}"
    if source == "app_store":
        return rng.choice([f"{first.lower()}.{last[0].lower()}{rng.randint(1980, 2006)}",
                           f"{first}{rng.randint(1, 999)}"])
    return rng.choice([f"{first} {last}", f"{first} {last[0]}.", f"{first.lower()}_{last.lower()}{rng.randint(1, 99)}"])


# ── time and version ──────────────────────────────────────────────────────────────────────────────
def _when(rng: random.Random, lo: float, hi: float) -> float:
    """Day offset in [lo, hi) following the IST daily rhythm (rejection sampling)."""
    top = max(HOUR_WEIGHTS)
    while True:
        at = rng.uniform(lo, hi)
        if rng.random() * top < HOUR_WEIGHTS[int(at % 1 * 24)]:
            return at


def _version(rng: random.Random, at: float, scale: float) -> str:
    """Installed version at day `at`: newest release wins with its (ramping, capped) adoption."""
    for version, day, ramp in reversed(RELEASES):
        released = at - day * scale
        if released >= 0 and rng.random() < ADOPTION_CAP * min(1.0, released / (ramp * scale)):
            return version
    return RELEASES[0][0]


def _corrupt(rec: dict[str, Any], defect: int) -> str:
    """Serialise `rec` with one defect that downstream validation must reject."""
    rec = dict(rec)
    if defect == 0:
        line = json.dumps(rec, ensure_ascii=False)
        return line[: len(line) // 2]  # truncated object, not JSON
    if defect == 1:
        del rec["text"]
    elif defect == 2:
        rec["text"] = "" if rec["rating"] % 2 else "   "
    elif defect == 3:
        rec["rating"] = "five" if rec["rating"] % 2 else 9
    elif defect == 4:
        rec["created_at"] = "yesterday"
    elif defect == 5:
        del rec["app_id"]
    else:
        return json.dumps([rec["app_id"], rec["text"], rec["rating"]], ensure_ascii=False)
    return json.dumps(rec, ensure_ascii=False)


# ── assembly ──────────────────────────────────────────────────────────────────────────────────────
def load_app(app: str | Path | dict[str, Any] = DEFAULT_APP) -> dict[str, Any]:
    """App metadata as a dict, from a JSON file path or a dict."""
    return app if isinstance(app, dict) else json.loads(Path(app).read_text(encoding="utf-8"))


def _counts(n: int) -> dict[str, int]:
    counts = {kind: round(n * share) for kind, share in SHARES.items()}
    return {"feedback": n - sum(counts.values()), **counts}


def _drafts(rng: random.Random, n: int, days: int, meta: dict[str, Any]) -> list[_Draft]:
    """All lines of the stream as drafts, in generation order."""
    s = days / BASE_DAYS
    name = meta["name"]
    drafts: list[_Draft] = []
    for kind, count in _counts(n).items():
        for i in range(count):
            source = rng.choices(SOURCES, SOURCE_MIX[kind])[0]
            at, version, lang = _when(rng, 0, days), None, None
            if kind == "feedback" or kind == "malformed":
                text, sentiment = _feedback(rng)
                lang = "en" if rng.random() < 0.02 else None
            elif kind == "hinglish":
                text, sentiment = _pick(rng, HINGLISH)
                text = _roughen(rng, text, slang=False)
            elif kind in ("hindi", "spanish"):
                text, sentiment = _pick(rng, HINDI if kind == "hindi" else SPANISH)
                lang = ("hi" if kind == "hindi" else "es") if rng.random() < 0.25 else None
            elif kind == "noise":
                text, sentiment = _noise(rng)
            elif kind == "spam_referral":
                text, sentiment = _referral(rng)
            elif kind == "spam_repeat":
                text, sentiment = REPEATED_SPAM[i % len(REPEATED_SPAM)], "spam"
                at = _when(rng, SPAM_CAMPAIGN[0] * s, SPAM_CAMPAIGN[1] * s)
            elif kind == "competitor":
                text, sentiment = _competitor(rng, meta["competitors"], source == "twitter")
            elif kind == "incident":
                hotfix = INCIDENT[1] * s
                at = _when(rng, INCIDENT[0] * s, hotfix) if rng.random() < 0.85 else hotfix + rng.expovariate(2 / s)
                at = min(at, days - 1e-6)
                text, sentiment = _incident(rng, at >= hotfix)
                version = INCIDENT_VERSION  # after the hotfix: users who have not updated yet
            else:  # otp_spike
                text, sentiment = _pick(rng, OTP_SPIKE_TEXTS)
                at = _when(rng, OTP_SPIKE[0] * s, OTP_SPIKE[1] * s)
            if source == "twitter":
                text = _tweetify(rng, text, name, kind)
            drafts.append(_Draft(at, kind, text, _rating(rng, sentiment), source, version or _version(rng, at, s),
                                 lang, defect=i % 7 if kind == "malformed" else None))
    return drafts


def build(n: int = 6000, seed: int = 7, start: str | date = "2026-10-01", days: int = 28,
          app: str | Path | dict[str, Any] = DEFAULT_APP) -> list[tuple[str, str]]:
    """The stream as (kind, JSONL line) pairs sorted by time; ids follow that order."""
    rng = random.Random(seed)
    meta = load_app(app)
    prefix = "".join(re.findall(r"[A-Z]", meta["name"])).lower() or meta["app_id"][:2]  # PayNest -> pn
    t0 = datetime.combine(date.fromisoformat(str(start)), datetime.min.time(), IST)
    drafts = sorted(enumerate(_drafts(rng, n, days, meta)), key=lambda p: (int(p[1].at * 86400), p[0]))
    out = []
    for seq, (_, d) in enumerate(drafts):
        at = t0 + timedelta(seconds=int(d.at * 86400))
        tweet = d.source == "twitter"
        rec: dict[str, Any] = {"id": f"{prefix}-{seq:06d}", "app_id": meta["app_id"], "source": d.source,
                               "text": d.text}
        if not tweet:
            rec["rating"] = d.rating
        rec["created_at"] = at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if tweet else at.isoformat()
        rec["author"] = _author(rng, d.source)
        if not tweet:
            rec["app_version"] = d.version
        if d.lang:
            rec["lang"] = d.lang
        line = _corrupt(rec, d.defect) if d.defect is not None else json.dumps(rec, ensure_ascii=False)
        out.append((d.kind, line))
    return out


def generate(n: int = 6000, seed: int = 7, start: str | date = "2026-10-01", days: int = 28,
             app: str | Path | dict[str, Any] = DEFAULT_APP) -> list[str]:
    """The stream as JSONL lines (no trailing newlines), sorted by created_at."""
    return [line for _, line in build(n, seed, start, days, app)]


def write(path: str | Path, lines: list[str]) -> Path:
    """Write lines as a UTF-8 JSONL file, creating the parent directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def watch_command(app: str | Path | dict[str, Any] = DEFAULT_APP, start: str | date = "2026-10-01") -> dict[str, Any]:
    """What the other_features snap-in sends first: watch the app's competitors by their hashtags,
    issued just before the stream starts."""
    meta = load_app(app)
    tags = [c["hashtags"][0] for c in meta.get("competitors", []) if c.get("hashtags")]
    issued = datetime.combine(date.fromisoformat(str(start)), datetime.min.time(), IST) - timedelta(hours=1)
    return {"app_id": meta["app_id"], "command": "add " + " ".join(tags), "issued_at": issued.isoformat()}


def main(argv: list[str] | None = None) -> None:
    """CLI entry point: generate, write, and print one summary line to stderr."""
    p = argparse.ArgumentParser(prog="python -m demo.generate", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="var/demo/reviews.jsonl")
    p.add_argument("--n", type=int, default=6000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", default="2026-10-01", help="first day (IST), YYYY-MM-DD")
    p.add_argument("--days", type=int, default=28)
    p.add_argument("--app", default=str(DEFAULT_APP), help="app metadata JSON")
    p.add_argument("--watchlist", default="", help="also write the snap-in's first watch-list command (JSONL) here")
    a = p.parse_args(argv)
    pairs = build(a.n, a.seed, a.start, a.days, a.app)
    path = write(a.out, [line for _, line in pairs])
    kinds = Counter(kind for kind, _ in pairs)
    summary = " ".join(f"{k}={v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
    print(f"demo.generate: {len(pairs)} lines -> {path} (seed={a.seed}) {summary}", file=sys.stderr)
    if a.watchlist:
        command = watch_command(a.app, a.start)
        write(a.watchlist, [json.dumps(command, ensure_ascii=False)])
        print(f"demo.generate: watch-list command {command['command']!r} -> {a.watchlist}", file=sys.stderr)


if __name__ == "__main__":
    main()
