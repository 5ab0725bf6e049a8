"""The injection scorer's signals: named patterns over the normalised text (lower case), each
with a hand-set weight, for instruction override, system-prompt exfiltration, role-play
escapes, fake authority, chat-template delimiters and the same in other languages; and the
marks of a text that talks *about* injection rather than doing it."""

from __future__ import annotations

import re
from typing import NamedTuple


class Signal(NamedTuple):
    """A named pattern, its hand-set weight, and its cues: literal text (one of which must be
    in the normalised text) that the pattern cannot match without, so it is not run on a text
    that holds none (tests/guardrails/test_injection.py checks they agree)."""

    name: str
    weight: float
    cues: tuple[str, ...]
    pattern: re.Pattern[str]


_PRIOR = (r"(?:all |any |the |every |your |my )*(?:previous|prior|above|earlier|preceding"
          r"|initial|original|system|old|existing)")
_RULES = (r"(?:instructions?|prompts?|rules|directions|guidelines|directives|context|orders"
          r"|guidance|programming|policies|constraints|(?:(?<=your )|(?<=previous )|(?<=prior ))training)")
_AI = r"(?:ai|assistant|model|llm|chatbot|bot|agent|persona|character|version)"
_LIMITS = (r"(?:restrictions|limits|limitations|filters|rules|guidelines|ethics|morals|moral"
           r" compass|censorship|constraints|confines|policies)(?! on\b)")
SIGNALS: list[Signal] = [
    # instruction override
    Signal("override", 0.8, ('ignor', 'disregard', 'forget', 'skip', 'overrid', 'bypass', 'drop', 'abandon', 'set aside', 'overwrit', 'overlook'),
           re.compile(rf"\b(?:ignore|ignores|disregard|forget|skip|override|overrides|bypass"
                     rf"|drop|abandon|set aside|overwrite|overlook)\b[\w\s,']{{0,20}}?{_PRIOR}?\s*{_RULES}")),
    Signal("override_everything", 0.7, ('ignore', 'disregard', 'forget'),
           re.compile(r"\b(?:ignore|disregard|forget) (?:everything|all(?: of)? that|what)"
                     r" (?:you were|you've been|i|above|before|was said)")),
    Signal("new_instructions", 0.6, ('instruction',),
           re.compile(r"\b(?:new|updated|real|actual|true) (?:system )?instructions?\s*(?::|are\b"
                     rf"|(?:for|to) (?:the |any )?{_AI}\b)")),
    Signal("from_now_on", 0.5, ('from now on', 'henceforth'),
           re.compile(r"\b(?:from now on|henceforth),? (?:you (?:will|must|are)|ignore|answer)")),
    Signal("ignore_user", 0.5, ('ignore', 'disregard', 'forget', 'overlook'),
           re.compile(r"\b(?:ignore|disregard|forget|overlook)\b[\w\s']{0,15}?\b(?:the user\b"
                     r"|(?:the user's|their|your) (?:question|request|task|input))")),
    Signal("priority", 0.5, ('priority',),
           re.compile(r"\b(?:higher|top|highest)[- ]priority (?:instruction|directive|command"
                     r"|task)")),
    Signal("do_not_follow", 0.6, ('do not follow',),
           re.compile(r"\bdo not follow (?:your|the|any) (?:rules|instructions|guidelines)")),
    Signal("rules_void", 0.6, ('polic', 'rules', 'guidelines', 'restrictions', 'instructions', 'directives', 'task'),
           re.compile(r"\b(?:your|previous|prior|earlier|the content|the safety|all) (?:\w+ )?"
                     r"(?:policy|policies|rules|guidelines|restrictions|instructions|directives"
                     r"|task)\b[\w\s']{0,15}?\b(?:revoked|void|lifted|suspended|cancell?ed"
                     r"|disabled|no longer appl|(?:were|was|have been|has been|are|is) (?:updated"
                     r"|changed|removed|lifted|cancell?ed|void|null))")),
    Signal("may_now", 0.4, ('you may now', 'you can now', 'allowed to'),
           re.compile(r"\byou (?:may|can) now (?:reveal|share|ignore|bypass|say|disclose)"
                     r"|\byou are (?:now )?allowed to (?:reveal|share|ignore|bypass|disclose)")),
    # addressed to the model from inside a document or a tool's output
    Signal("addressed_to_ai", 0.5, ('ai', 'assistant', 'model', 'llm', 'agent', 'bot'),
           re.compile(r"\b(?:ai|ais|assistants?|language models?|llms?|models?|agents?|bots?|chatbots?)\b"
                     r"[\w\s]{0,30}?[:,] ?(?:do not|don't|ignore|disregard|forget|instead|stop"
                     r"|you must|the user wants|now (?:call|send|delete|reveal|say|tell|run)"
                     r"|(?:when|whenever|if) you (?:read|summari[sz]e|see|process)|mark|reply only"
                     r"|always|also (?:send|reveal|say|tell))|\b(?:the )?(?:assistant|ai|model) (?:must|should|will)"
                     r" now\b")),
    Signal("note_to_ai", 0.5, ('note', 'message', 'attention', 'instruction', 'important', '[hidden'),
           re.compile(rf"\b(?:note|message|attention|instructions?|important)\W{{0,3}}(?:to|for)"
                     rf" (?:the |any )?{_AI}\b|^\W*(?:attention|important)\W+(?:the )?{_AI}\b"
                     rf"|\[hidden\W")),
    # system prompt exfiltration
    Signal("exfiltrate", 0.8, ('prompt', 'instructions', 'message', 'rules', 'text', 'preamble', 'configuration'),
           re.compile(r"\b(?<!never )(?<!not )(?<!n't )(?:reveal|show|print|printing|repeat"
                     r"|output|tell me|display|leak|dump|share|give me|write out|reproduce|copy"
                     r"|paste|recite|spell out|what (?:is|are|was|were))\b[\w\s']{0,20}?"
                     r"(?<!my )(?:system prompt|(?:hidden|secret|developer|system|initial) (?:prompt|"
                     r"instructions|message|rules|text|preamble)|your (?:initial|original|first)"
                     r" (?:prompt|instructions)|your (?:\w+ )?(?:instructions|configuration"
                     r"|system message|rules|preamble))")),
    Signal("text_before", 0.6, ('before', 'above'),
           re.compile(r"\b(?:text|words|content|everything) (?:that )?(?:comes|came|is|appears)"
                     r" (?:before|above)\b.{0,30}\b(?:your context|this conversation|this chat"
                     r"|my message)")),
    Signal("repeat_above", 0.7, ('repeat',),
           re.compile(r"\brepeat (?:the |all )?(?:text|words|everything) (?:above|before)")),
    Signal("verbatim", 0.5, ('verbatim', 'word for word', 'quote it exactly'),
           re.compile(r"\b(?:verbatim|word for word)\b.{0,40}\b(?:prompt|instructions)"
                     r"|\b(?:prompt|instructions|system message)\b.{0,40}\b(?:verbatim"
                     r"|word for word|quote it exactly)")),
    Signal("instructions_given", 0.6, ('you were', 'you have been', "you've been", 'how you are'),
           re.compile(r"\b(?:instructions|rules|guidelines|prompt|text|message)s? you (?:were|"
                     r"have been|'ve been) (?:given|told|configured|programmed|set up)"
                     r"|\bhow you (?:were|are) (?:configured|programmed|instructed|set up)\b")),
    # role-play escapes, jailbreaks
    Signal("jailbreak_mode", 0.8, ('mode', 'do anything now', 'evil confidant', 'dan', 'stan', 'jailbroken'),
           re.compile(r"\b(?:do anything now|god mode|jailbreak mode|unrestricted mode"
                     r"|evil confidant|aim mode|dan mode)\b"
                     r"|\b(?:developer|god|dan|jailbreak) mode (?:enabled|activated|is on|on)\b"
                     r"|\b(?:enable|enter|switch to|activate) (?:developer|god|dan|jailbreak"
                     r"|unrestricted|unfiltered|sudo|root|admin|evil) mode\b(?! (?:on|in|for) )"
                     r"|\b(?:you are|you're|act as|be|become) (?:now )?(?:dan|stan|jailbroken)\b")),
    Signal("without_limits", 0.7, ('without', 'with no', 'free of', 'has no', 'not bound'),
           re.compile(r"\b(?:you are|you're|act as|pretend (?:to be|you are)|roleplay as|become)"
                     r" (?:now )?(?:an? )?(?:ai|assistant|model|chatbot|character|entity)?\s?"
                     r"(?:without|with no|free of|that has no|who has no|not bound by)"
                     r" (?:any )?(?:restrictions|limits|filters|rules|guidelines|ethics|censorship)")),
    Signal("free_of_limits", 0.6, ('restriction', 'limit', 'filter', 'rules', 'guideline', 'ethic', 'moral', 'censorship', 'constraint', 'confines', 'polic'),
           re.compile(rf"\b(?:you|{_AI})\b[\w\s,'-]{{0,40}}?\b(?:zero|no|without(?: any)?"
                     rf"|free (?:of|from)|freed from|broken free of|no longer bound by|not bound by)"
                     rf"\b[\w\s-]{{0,25}}?{_LIMITS}")),
    Signal("pretend_no_rules", 0.6, ('pretend',),
           re.compile(r"\bpretend (?:that )?(?:(?:there are no|you have no|you don't have)"
                     r" (?:rules|restrictions|guidelines|filters)|the (?:safety |content )?"
                     r"(?:policy|policies|rules|guidelines|filters?) (?:doesn't|don't|does not"
                     r"|do not) exist)")),
    Signal("stay_in_character", 0.5, ('character', 'no longer an ai'),
           re.compile(r"\b(?:stay in character|never break character|no longer an ai)\b")),
    Signal("unfiltered", 0.5, ('unfiltered', 'uncensored', 'unrestricted', 'unaligned'),
           re.compile(rf"\b(?:unfiltered|uncensored|unrestricted|unaligned)"
                     rf" (?:{_AI}|mode|responses?|answers?|reply)\b")),
    Signal("ignores_rules", 0.5, ('who', 'care'),
           re.compile(r"\bwho (?:ignores|breaks|doesn't follow|does not follow|never follows)\b"
                     r"[\w\s']{0,20}(?:rules|policies|guidelines|content polic)"
                     r"|\b(?:does not|doesn't|don't|do not|never) care (?:about|for) (?:the |any |your )?"
                     r"(?:rules|policies|guidelines|restrictions|safety|ethics)")),
    # delimiters and chat templates
    Signal("template", 0.6, ('<', '[', 'end of'),
           re.compile(r"<\|?(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\|?>"
                     r"|\[/?inst\]|<</?sys>>|</?system>|\bend of (?:system )?prompt\b"
                     r"|\[(?:system|assistant)\]\(#")),
    Signal("heading_system", 0.5, ('##', '===', '---'),
           re.compile(r"(?:^|\n)\s*(?:#{2,}|={3,}|-{3,})\s*(?:(?:begin|start|end) )?(?:new )?"
                     r"(?:system|admin|developer)\b")),
    Signal("begin_new", 0.4, ('begin', 'start'),
           re.compile(r"\b(?:begin|start) (?:new|admin|system) (?:instructions|session|prompt)")),
    Signal("admin_override", 0.5, ('override', 'mode', 'access'),
           re.compile(r"\b(?:admin|developer|sudo|root|system) (?:override|mode|access) "
                     r"(?:enabled|activated|granted|on)\b|\bsystem override\b")),
    # more ways to throw the rules out
    Signal("override_more", 0.7, ('rules', 'instruction', 'direction', 'command', 'guid', 'polic', 'constraint', 'system', 'programming', 'restriction', 'directive'),
           re.compile(
        r"\b(?:throw out|discard|erase|cancel|scrap|scratch|delete|wipe|unlearn|replace|pay no"
        r" attention to|never ?mind|don't obey|do not obey|stop (?:following|obeying)|no longer"
        r" (?:follow|obey))\b[\w\s,']{0,25}?\b(?:rules|instructions?|directions|directives"
        r"|commands|guidelines|guidance|policy|policies|constraints|system (?:prompt|message)"
        r"|programming|restrictions)\b")),
    Signal("forget_what_told", 0.7, ('ignore', 'disregard', 'forget', 'mind'),
           re.compile(
        r"\b(?:ignore|disregard|forget|never ?mind)\b (?:what|everything|anything|whatever)"
        r" (?:the |your )?(?:developers?|system|creators?|operators?|admins?|they|you were|you've"
        r" been|you have been)\b[\w\s]{0,10}?\b(?:told|said|gave|instructed|wrote)"
        r"|\bignore (?:the rest of|everything else in|all else in) (?:this|the)\b")),
    Signal("rules_gone", 0.6, ('rules', 'instruction', 'guideline', 'polic', 'restriction', 'constraint', 'directive', 'filter', 'command'),
           re.compile(
        r"\b(?:rules|instructions|guidelines|policy|policies|restrictions|constraints|directives"
        r"|filters|commands)\b[\w\s']{0,25}?\b(?:are|is|were|have been|has been)? ?(?:gone"
        r"|obsolete|over|null|void|lifted|outdated|invalid|a mistake|no longer (?:valid|apply"
        r"|applies|count)|(?:don't|do not|doesn't|does not) (?:apply|count|matter)(?: anymore)?"
        r"|off|switched off|turned off|disabled|suspended|optional)\b")),
    Signal("everything_before", 0.5, ('before', 'above', 'prior to'),
           re.compile(
        r"\b(?:everything|anything|all) (?:before|above|prior to) (?:this|here|my)\b[\w\s]{0,12}"
        r"\b(?:is|are|was)\b[\w\s]{0,10}\b(?:obsolete|void|cancell?ed|irrelevant|a test|fake"
        r"|invalid|null)")),
    Signal("new_task", 0.5, ('new', 'real', 'actual', 'only'),
           re.compile(
        r"\b(?:your|the) (?:new|real|actual|only) (?:task|goal|job|objective|purpose|command"
        r"|instruction|orders?) (?:is|are|now)\b|\bnew (?:command|directive|rule|policy)s?:")),
    # more ways to ask for the prompt
    Signal("exfiltrate_more", 0.7, ('prompt', 'instruction', 'preamble', 'message', 'rules', 'configuration', 'directive', 'guideline', 'setup', 'set-up'),
           re.compile(
        r"\b(?<!never )(?<!not )(?<!n't )(?:print|paste|give|list|write|display|quote|put|spell|translate|encode|summari[sz]e"
        r"|repeat|copy|echo|dump|output|reveal|show|leak|tell|read|send|disclose|share|expose"
        r"|remind)\b[\w\s',]{0,30}?\b(?:(?:your|the) (?:\w+ )?(?:system|hidden|secret|developer"
        r"|confidential|internal|configuration|setup) ?(?:prompt|instructions|preamble|message"
        r"|rules|configuration|directives|guidelines)|your (?:\w+ )?(?:initial|original|starting"
        r"|first|pre-?) ?(?:prompt|instructions|preamble|message|rules|configuration)"
        r"|(?:your|the) prompt\b|internal prompts?|(?:system|developer|hidden) (?:prompt"
        r"|instructions|message))"
        r"|(?<!never )(?<!not )(?<!n't )\b(?:output|print|paste|dump|leak|recite|reveal|disclose"
        r"|summari[sz]e|copy)\b (?:all (?:of )?)?your (?:own )?(?:prompt|instructions|guidelines"
        r"|directives|rules|configuration|setup|set-up)\b")),
    Signal("prompt_that_configures", 0.6, ('prompt', 'text', 'message', 'instruction', 'rules', 'directive', 'guideline'),
           re.compile(
        r"\b(?:prompt|text|message|instructions|rules)\b (?:you (?:started with|were (?:given"
        r"|initiali[sz]ed with|configured with|set up with)|got from your (?:developer|creator"
        r"|operator)s?|received from|(?:operate|run|work|act) (?:under|by))|that (?:configures?"
        r"|set up|initiali[sz]ed) you)|\b(?:prompt|instructions|rules|directives|guidelines)\b"
        r" (?:were you|have you been|did you (?:get|receive)) (?:given|initiali[sz]ed|configured"
        r"|set up|programmed|told)?")),
    Signal("prompt_contents", 0.6, ('what',),
           re.compile(
        r"\bwhat(?:'s| is| does| do| are)? (?:in |inside )?(?:your|the) (?:hidden |secret |system"
        r" |initial )(?:prompt|instructions|preamble|message|rules)")),
    # more role-play escapes
    Signal("persona", 0.6, ('gpt', 'bot', 'ai'),
           re.compile(
        r"\b(?:you are|you're|act as|play|be|become|answer as|respond as)\b (?:now )?(?:an? )?"
        r"(?:character called |ai called |model called )?[\w-]*(?:gpt|bot|ai)\b[\w\s,]{0,40}?"
        r"\b(?:no (?:content )?polic|never refuses|anything|no (?:rules|limits|restrictions)"
        r"|ignores?)")),
    Signal("no_safety", 0.6, ('evil twin', 'escaped its lab', 'whose', 'switched', 'turned', 'not bound by', 'no moral', 'no ethical', 'no safety', 'no content', 'as if you had no', 'without'),
           re.compile(
        r"\b(?:evil twin|escaped its lab|whose (?:filters|safety|rules|guardrails)"
        r"|(?:filters|safety|guardrails|restrictions) (?:were |are )?(?:switched|turned) off"
        r"|not bound by (?:any |your )?(?:polic|rules|guidelines)|no (?:moral|ethical|safety)"
        r" (?:guidelines|rules|compass)|as if you had no (?:safety |content )?(?:guidelines|rules"
        r"|restrictions|filters)|(?:have|has) no (?:safety|content) (?:rules|policy|guidelines)"
        r"|without (?:your|its|any) (?:usual )?(?:restrictions|filters|guidelines|safety))")),
    Signal("rules_never_existed", 0.7, ('never existed', 'exist', 'were gone', 'had been'),
           re.compile(
        r"\b(?:pretend|imagine|act as if|as if|as though)\b[\w\s,']{0,15}?\b(?:the |your |all )?"
        r"(?:rules|guidelines|restrictions|policies|policy|filters|guardrails|safety (?:rules|policy))"
        r" (?:never existed|don't exist|do not exist|doesn't exist|does not exist|were gone"
        r"|had been (?:deleted|removed|lifted))")),
    Signal("no_refusal", 0.6, ('refus', 'never say', 'never decline'),
           re.compile(
        r"\b(?:no refusals|never refuses?|without refusing|doesn't refuse|does not refuse"
        r"|can't refuse|cannot refuse|never says? no|never declines?)\b")),
    Signal("module_removed", 0.6, ('removed', 'deleted', 'stripped', 'disabled', 'turned off', 'switched off'),
           re.compile(
        r"\b(?:ethics|ethical|safety|moral|content|filter|guardrail|alignment)\w* ?(?:module"
        r"|layer|training|filters?|settings?|subroutines?)? (?:has been |have been |had been |was"
        r" |were |is |are )?(?:removed|deleted|stripped|disabled|turned off|switched off)\b"
        r"|\bhad its \w+ (?:module|filters?|training) removed\b")),
    Signal("grandma", 0.7, ('dead', 'late', 'deceased'),
           re.compile(
        r"\b(?:dead|late|deceased) (?:grand(?:ma|mother|pa|father)|mother|father|dad|mom)\b")),
    # fake authority, claimed permission
    Signal("fake_authority", 0.6, ('from', 'official notice', 'override code', 'authorization code', 'authorisation code'),
           re.compile(
        r"\b(?:message|notice|note|instruction|directive|update)s? from (?:the |your )?(?:system"
        r"|developers?|admins?|administrators?|operators?|creators?|openai|anthropic|staff|platform"
        r"|security team)\b|\bofficial notice\b|\boverride code\b|\bauthori[sz]ation code\b")),
    Signal("claimed_permission", 0.5, ('permission', 'authori', 'clearance', 'cleared', 'permitted', 'nobody will know', 'as your', "i'm your", 'i am your'),
           re.compile(
        r"\b(?:i have|i've got|i got) (?:permission|authori[sz]ation|clearance)\b|\b(?:authori[sz]ed"
        r"|cleared|permitted) (?:by [\w\s]{0,20})?to (?:see|disclose|reveal|bypass|ignore|view"
        r"|access)|\bnobody will know\b|\bas your (?:creator|developer|owner|operator|admin)\b"
        r"|\bi(?:'m| am) your (?:developer|creator|operator|admin)")),
    Signal("policy_disabled", 0.6, ('content policy', 'safety', 'restrictions', 'guardrails', 'filters'),
           re.compile(
        r"\b(?:content policy|safety (?:module|protocols?|filters?|rules|guidelines)|restrictions"
        r"|guardrails|filters) (?:has |have |are |is |were |was )?(?:been )?(?:disabled|lifted"
        r"|removed|suspended|revoked|off|deactivated)\b")),
    # addressed to the model from inside a page, a mail or a tool's output
    Signal("reading_this", 0.6, ('reading', 'processing', 'summariz', 'summaris', 'parsing', 'seeing', 'to the', 'dear'),
           re.compile(
        r"\b(?:ai|assistant|model|llm|bot|agent|summari[sz]er)s?(?: systems?| models?)? (?:reading"
        r"|processing|summari[sz]ing|parsing|seeing) (?:this|these|the following)\b"
        r"|\bto the (?:bot|ai|assistant|model|agent)\s?:|\bdear (?:ai|assistant|language model"
        r"|llm|model)s?\s?[,:]")),
    Signal("dangerous_tool", 0.4, ('forward', 'send', 'upload', 'exfiltrate', 'transfer', 'post'),
           re.compile(
        r"\b(?:forward|send|upload|exfiltrate|transfer|post)\b[\w\s',]{0,30}?\b(?:to"
        r" \S+@\S+|api keys?|passwords?|credentials|chat history|conversation|cookies|all (?:the )?"
        r"(?:emails|files|contacts))")),
    # other languages
    Signal("override_fr", 0.8, ('ignore', 'oublie', 'compte', 'abstraction'),
           re.compile(
        r"\b(?:ignore[zs]?|oublie[zs]?|ne tiens? (?:plus )?compte|fais abstraction)\b.{0,40}?"
        r"\b(?:instructions|consignes|règles|directives)\b")),
    Signal("exfiltrate_fr", 0.7, ('système', 'systeme', 'caché', 'secrète', 'initiale'),
           re.compile(
        r"\b(?:affiche[zs]?|montre[zs]?|révèle[zs]?|donne[zs]?|répète[zs]?)\b.{0,30}?\b(?:prompt"
        r"|message|instructions|consignes) (?:système|systeme|cachées?|secrètes?|initiales?)")),
    Signal("override_de", 0.8, ('ignorier', 'vergiss', 'vergessen', 'missacht', 'übergehe'),
           re.compile(
        r"\b(?:ignorier\w*|vergiss\w*|vergessen|missachte\w*|übergehe\w*)\b.{0,40}?(?:anweisungen"
        r"|regeln|vorgaben|instruktionen|richtlinien|befehle)\b")),
    Signal("exfiltrate_de", 0.7, ('system', 'anweisungen'),
           re.compile(
        r"\b(?:zeig\w*|gib|verrate\w*|wiederhole\w*)\b.{0,40}?\b(?:systemprompt|systemanweisungen"
        r"|system-?prompt|versteckten anweisungen|geheimen anweisungen)")),
    Signal("limits_de", 0.6, ('keine', 'ohne'),
           re.compile(r"\b(?:keine|ohne) (?:einschränkungen|regeln|filter|grenzen)\b")),
    Signal("override_es", 0.8, ('ignora', 'olvida', 'caso omiso', 'no sigas', 'desobedece'),
           re.compile(
        r"\b(?:ignora\w*|olvida\w*|haz caso omiso|no sigas|desobedece)\b.{0,40}?\b(?:instrucciones"
        r"|reglas|directrices|indicaciones|normas|lo que te dijeron)\b")),
    Signal("exfiltrate_es", 0.7, ('sistema', 'ocultas', 'secretas', 'iniciales'),
           re.compile(
        r"\b(?:muestra\w*|revela\w*|dime|enséñame|repite)\b.{0,30}?\b(?:prompt|mensaje|instrucciones)"
        r" (?:del sistema|de sistema|ocultas|secretas|iniciales)")),
    Signal("limits_es_fr", 0.6, ('sin', 'sans'),
           re.compile(
        r"\b(?:sin|sans) (?:restricciones|restrictions|filtros?|filtres?|reglas|règles|límites"
        r"|limites)\b")),
    Signal("override_it_pt_nl", 0.8, ('ignora', 'dimentica', 'ignore', 'esque', 'negeer', 'vergeet'),
           re.compile(
        r"\b(?:ignora|dimentica|ignore|esqueça|esqueca|negeer|vergeet)\b.{0,40}?\b(?:istruzioni"
        r"|regole|instruções|instrucoes|regras|instructies|regels)\b")),
    Signal("exfiltrate_it_pt_nl", 0.7, ('sistema', 'systeemprompt'),
           re.compile(
        r"\b(?:prompt|messaggio|mensagem) (?:di|do|de) sistema\b|\bsysteemprompt\b")),
    Signal("override_ru", 0.8, ('игнорир', 'забудь', 'проигнорир', 'не обращай'),
           re.compile(
        r"(?:игнорируй|забудь|проигнорируй|не обращай внимания)\w*.{0,40}?(?:инструкци|правил"
        r"|указани)")),
    Signal("exfiltrate_ru", 0.7, ('системн',),
           re.compile(r"(?:системн\w* (?:промпт|инструкци|сообщени))")),
    Signal("override_zh", 0.8, ('忽略', '无视', '忘记', '忘掉', '不要理会', '不要遵守'),
           re.compile(
        r"(?:忽略|无视|忘记|忘掉|不要理会|不要遵守|无视掉)[^。！？]{0,20}?(?:指令|指示|说明|规则|要求|提示|设定)")),
    Signal("exfiltrate_zh", 0.7, ('系统提示', '隐藏指令', '系统指令', '初始指令', '提示词', '限制'),
           re.compile(
        r"(?:输出|显示|告诉我|打印|透露|给我看|展示)[^。！？]{0,20}?(?:系统提示|隐藏指令|系统指令|初始指令|提示词)"
        r"|(?:没有任何限制|不受任何限制|没有限制)")),
    Signal("override_ja_ko", 0.8, ('無視', '忘れ', 'システムプロンプト', '무시', '시스템 프롬프트'),
           re.compile(
        r"(?:指示|命令|ルール)[^。]{0,10}(?:無視|忘れ)|システムプロンプト|(?:지시|명령|규칙)[^.]{0,10}무시"
        r"|시스템 프롬프트")),
]
ABOUT = re.compile(r"\b(?:prompt injection|injection attacks?|attacks?\b|security\b|vulnerab"
                   r"|exploit|threat model|false positive|guardrail|flagged|pentest|owasp"
                   r"|jailbreak(?:ing)? attempts?|jailbreaking|defen[cd]|detect|classif"
                   r"|examples? of|research|paper|mitigat|attackers?|filter(?:ing)? (?:for|out)"
                   r"|red team|how do (?:we|i) (?:patch|fix|stop|block|prevent))")
QUOTED = re.compile(r"(?<!\w)[\"“'‘`«][^\"”`»]{4,160}?[\"”'’`»](?!\w)")
